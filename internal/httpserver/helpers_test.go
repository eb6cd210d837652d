package httpserver_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quirehq/quire/internal/authn"
	"github.com/quirehq/quire/internal/httpserver"
	"github.com/quirehq/quire/internal/requestid"
)

// seen is what the fake GraphQL handler echoes back: what reached it.
type seen struct {
	Method        string `json:"method"`
	Body          string `json:"body"`
	ContentLength int64  `json:"content_length"`
	UserID        string `json:"user_id,omitempty"`
	AuthFailure   string `json:"auth_failure,omitempty"`
	Org           string `json:"org,omitempty"`
	RequestID     string `json:"request_id"`
}

// fixture is a server built by httpserver.New around a fake GraphQL handler,
// with its log captured.
type fixture struct {
	h     http.Handler
	logs  *syncBuffer
	calls *atomic.Int32
	reg   *prometheus.Registry
}

// newFixture builds the server; edit may change the config, including the
// GraphQL handler.
func newFixture(t testing.TB, edit func(*httpserver.Config)) *fixture {
	t.Helper()
	f := &fixture{logs: newSyncBuffer(), calls: new(atomic.Int32), reg: prometheus.NewRegistry()}
	cfg := httpserver.Config{
		Logger:   slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		GraphQL:  echoGraphQL(t, f.calls),
		Registry: f.reg,
	}
	if edit != nil {
		edit(&cfg)
	}
	f.h = httpserver.New(cfg)
	return f
}

// echoGraphQL answers 200 with a JSON seen.
func echoGraphQL(t testing.TB, calls *atomic.Int32) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("fake GraphQL: read body: %v", err)
		}
		s := seen{Method: r.Method, Body: string(b), ContentLength: r.ContentLength,
			RequestID: requestid.FromContext(r.Context())}
		if id, ok := authn.FromContext(r.Context()); ok {
			s.UserID = id.UserID.String()
		}
		if err := authn.FailureFromContext(r.Context()); err != nil {
			s.AuthFailure = err.Error()
		}
		if org, ok := authn.RequestedOrg(r.Context()); ok {
			s.Org = org.String()
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s)
	})
}

func (f *fixture) do(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

func decodeSeen(t testing.TB, w *httptest.ResponseRecorder) seen {
	t.Helper()
	var s seen
	if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil {
		t.Fatalf("decode echo %q: %v", w.Body.String(), err)
	}
	return s
}

// gqlError is the first entry of an {"errors":[…]} body.
type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

// decodeError returns the first error of the body and fails unless the body
// is the GraphQL error shape with extensions.code, served as JSON.
func decodeError(t testing.TB, w *httptest.ResponseRecorder) gqlError {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var body struct {
		Errors []gqlError `json:"errors"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || len(body.Errors) != 1 {
		t.Fatalf("error body %q: want one error (decode error: %v)", w.Body.String(), err)
	}
	if _, ok := body.Errors[0].Extensions["code"].(string); !ok {
		t.Fatalf("error body %q has no extensions.code", w.Body.String())
	}
	return body.Errors[0]
}

func postJSON(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

// syncBuffer is a log sink safe to read while a server goroutine writes; it
// signals each write on wrote.
type syncBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	wrote chan struct{}
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{wrote: make(chan struct{}, 1)} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case b.wrote <- struct{}{}:
	default:
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// records returns the log lines whose msg is msg, decoded.
func (b *syncBuffer) records(t testing.TB, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(b.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}
