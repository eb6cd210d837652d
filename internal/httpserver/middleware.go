package httpserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/requestid"
)

// secureHeaders sets the headers every response carries.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// noStore marks a JSON endpoint's answers uncacheable: they depend on the
// caller's credentials.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// withDeadline gives each request's context a deadline of d, so a slow
// database or a stuck resolver ends the request with an error instead of
// holding it (and its pool connection) open. A websocket upgrade lives as
// long as its connection and gets none. d ≤ 0 sets none.
func withDeadline(d time.Duration, next http.Handler) http.Handler {
	if d <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isWebsocketUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// withRequestID adopts the client's X-Request-Id when it is safe to log and
// otherwise makes one, puts it on the context and echoes it. It also
// resolves the client's address once (trusted, for X-Forwarded-For) for
// everything after it.
func withRequestID(trusted proxies, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !requestid.Valid(id) {
			id = requestid.New()
		}
		w.Header().Set("X-Request-Id", id)
		ctx := requestid.WithClientIP(requestid.NewContext(r.Context(), id), trusted.client(r))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func requestID(r *http.Request) string { return requestid.FromContext(r.Context()) }

// recoverPanics turns a panic into a 500 INTERNAL whose body says nothing of
// the panic; the value and stack go to the log. http.ErrAbortHandler is the
// deliberate way to abort a response, so it is passed on to net/http.
func recoverPanics(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w}
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(p)
			}
			logger.ErrorContext(r.Context(), "panic",
				slog.String("request_id", requestID(r)),
				slog.String("panic", fmt.Sprint(p)),
				slog.String("stack", string(debug.Stack())))
			if rec.wroteHeader {
				// Part of a response is out; a 500 can no longer be sent, and
				// ending normally would pass a truncated body off as whole.
				panic(http.ErrAbortHandler)
			}
			WriteError(rec, http.StatusInternalServerError, qerr.Internal, "internal error", nil)
		}()
		next.ServeHTTP(rec, r)
	})
}

// recorder remembers the status and size of a response for the access log
// and metrics. It delegates Flush and Hijack (websocket upgrades, streaming)
// and unwraps for http.ResponseController.
type recorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
	hijacked    bool
}

var (
	_ http.Flusher  = (*recorder)(nil)
	_ http.Hijacker = (*recorder)(nil)
)

// asRecorder returns w if it is a recorder already (recoverPanics made one)
// and wraps it otherwise.
func asRecorder(w http.ResponseWriter) *recorder {
	if rec, ok := w.(*recorder); ok {
		return rec
	}
	return &recorder{ResponseWriter: w}
}

func (rec *recorder) WriteHeader(code int) {
	// 1xx other than 101 are interim (103 Early Hints); the final status
	// is still to come.
	if !rec.wroteHeader && (code >= 200 || code == http.StatusSwitchingProtocols) {
		rec.status = code
		rec.wroteHeader = true
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if !rec.wroteHeader {
		rec.WriteHeader(http.StatusOK)
	}
	n, err := rec.ResponseWriter.Write(b)
	rec.bytes += int64(n)
	return n, err
}

// Flush sends buffered data; it is a no-op when the underlying writer
// cannot flush.
func (rec *recorder) Flush() {
	if !rec.wroteHeader {
		rec.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(rec.ResponseWriter).Flush()
}

// Hijack hands the connection over (websocket upgrades); the response is
// then recorded as 101 Switching Protocols. The read and write deadlines
// the server set for the request are cleared: they would cut a websocket
// off mid-life, and the websocket keeps its own (connection_init timeout,
// ping/pong).
func (rec *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(rec.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, fmt.Errorf("hijack: %w", err)
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		_ = conn.Close()
		return nil, nil, fmt.Errorf("hijack: clear deadlines: %w", err)
	}
	rec.hijacked = true
	if !rec.wroteHeader {
		rec.status = http.StatusSwitchingProtocols
		rec.wroteHeader = true
	}
	return conn, rw, nil
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }
