package graph

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/quirehq/quire/internal/store"
)

// A query over HTTP answers from what the server cached about its caller
// (the session, and the principal in the organization) without first asking
// the database, and has the database check those assumptions in the round
// trip that opens its transaction (store.Guard, app_enter). The answer is
// held back until the check passed; if it failed, or never ran because the
// query read nothing, the request runs once more the careful way, loading
// every fact from the database. A warm authorized read thus costs the round
// trips of its own transaction and nothing for authorization.
//
// Only queries speculate: a mutation must not run twice, and a
// subscription's answers leave one by one.

type speculationKey struct{}

// speculation is one HTTP request's attempt to answer from caches.
type speculation struct {
	guard *store.Guard
}

// guardOperation gives a query operation of a speculating request its guard.
func guardOperation(ctx context.Context) context.Context {
	spec, _ := ctx.Value(speculationKey{}).(*speculation)
	if spec == nil || spec.guard != nil {
		return ctx
	}
	op := graphql.GetOperationContext(ctx).Operation
	if op == nil || op.Operation != ast.Query {
		return ctx
	}
	spec.guard = &store.Guard{}
	return store.WithGuard(ctx, spec.guard)
}

// speculate wraps the GraphQL server h: POST and GET requests speculate,
// others (a websocket's upgrade) pass through.
func speculate(h http.Handler, st *store.Store, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method != http.MethodPost && r.Method != http.MethodGet) || r.Header.Get("Upgrade") != "" {
			h.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			// Too large or cut short: let the transport answer that, with
			// what was read and then the error.
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
			h.ServeHTTP(w, r)
			return
		}
		replay := func(ctx context.Context) *http.Request {
			r2 := r.Clone(withBody(ctx, body))
			r2.Body = io.NopCloser(bytes.NewReader(body))
			return r2
		}
		spec := &speculation{}
		buf := buffers.Get().(*responseBuffer)
		defer buf.release()
		h.ServeHTTP(buf, replay(context.WithValue(r.Context(), speculationKey{}, spec)))
		if g := spec.guard; g != nil && g.Assumed() {
			if err := st.CheckGuard(r.Context(), g); err != nil {
				if !errors.Is(err, store.ErrStale) {
					logger.WarnContext(r.Context(), "check cached authorization", "err", err)
				}
				h.ServeHTTP(w, replay(r.Context()))
				return
			}
		}
		buf.flush(w)
	})
}

// buffers recycles response buffers: a page of notes is tens of kilobytes,
// and growing a fresh buffer for each answer is garbage the collector pays
// for.
var buffers = sync.Pool{New: func() any { return &responseBuffer{header: http.Header{}} }}

// release empties b and returns it to the pool, unless an unusually large
// answer grew it.
func (b *responseBuffer) release() {
	if b.body.Cap() > 1<<20 {
		return
	}
	clear(b.header)
	b.status = 0
	b.body.Reset()
	buffers.Put(b)
}

// responseBuffer holds a speculative answer until its assumptions are
// checked.
type responseBuffer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *responseBuffer) Header() http.Header { return b.header }

func (b *responseBuffer) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *responseBuffer) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

func (b *responseBuffer) flush(w http.ResponseWriter) {
	h := w.Header()
	for k, v := range b.header {
		h[k] = v
	}
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
