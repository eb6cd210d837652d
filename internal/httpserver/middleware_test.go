package httpserver_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/quirehq/quire/internal/authn"
	"github.com/quirehq/quire/internal/httpserver"
)

func TestPanic(t *testing.T) {
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		wantStatus int
	}{
		{name: "before writing", wantStatus: 500, handler: func(http.ResponseWriter, *http.Request) {
			panic("db password hunter2 leaked")
		}},
		{name: "error value", wantStatus: 500, handler: func(http.ResponseWriter, *http.Request) {
			panic(fmt.Errorf("db password hunter2 leaked"))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(c *httpserver.Config) { c.GraphQL = tc.handler })
			r := postJSON(`{}`)
			r.Header.Set("X-Request-Id", "req-panic")
			w := f.do(r)
			if w.Code != tc.wantStatus {
				t.Errorf("status = %d, want %d", w.Code, tc.wantStatus)
			}
			e := decodeError(t, w)
			if diff := cmp.Diff(gqlError{Message: "internal error", Extensions: map[string]any{"code": "INTERNAL"}}, e); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if strings.Contains(w.Body.String(), "hunter2") {
				t.Errorf("body leaks the panic: %s", w.Body)
			}
			errs := f.logs.records(t, "panic")
			if len(errs) != 1 {
				t.Fatalf("panic log lines = %v, want 1", errs)
			}
			stack, _ := errs[0]["stack"].(string)
			if errs[0]["level"] != "ERROR" || errs[0]["request_id"] != "req-panic" ||
				!strings.Contains(stack, "httpserver_test.TestPanic") {
				t.Errorf("panic log = %v, want ERROR with request_id and the stack", errs[0])
			}
			access := f.logs.records(t, "request")
			if len(access) != 1 || access[0]["status"] != float64(500) {
				t.Errorf("access log = %v, want one line with status 500", access)
			}
		})
	}
}

func TestPanicAfterWriteAborts(t *testing.T) {
	f := newFixture(t, func(c *httpserver.Config) {
		c.GraphQL = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"data":`))
			panic("half way")
		})
	})
	got := catchPanic(func() { f.do(postJSON(`{}`)) })
	if !errors.Is(asError(got), http.ErrAbortHandler) {
		t.Errorf("panic = %v, want http.ErrAbortHandler so net/http drops the connection", got)
	}
}

func TestAbortHandlerNotRecovered(t *testing.T) {
	f := newFixture(t, func(c *httpserver.Config) {
		c.GraphQL = http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
	})
	got := catchPanic(func() { f.do(postJSON(`{}`)) })
	if got != http.ErrAbortHandler {
		t.Errorf("panic = %v, want http.ErrAbortHandler", got)
	}
	if errs := f.logs.records(t, "panic"); len(errs) != 0 {
		t.Errorf("logged %v for a deliberate abort", errs)
	}
}

func catchPanic(fn func()) (p any) {
	defer func() { p = recover() }()
	fn()
	return nil
}

func asError(p any) error {
	err, _ := p.(error)
	return err
}

func TestAccessLog(t *testing.T) {
	f := newFixture(t, nil)
	r := httptest.NewRequest(http.MethodGet, "/graphql?query=%7Bme%7D&variables=%7B%22email%22%3A%22ann%40example.com%22%7D", nil)
	r.Header.Set("X-Request-Id", "req-log")
	r.Header.Set("Authorization", "Bearer token-in-header")
	r.RemoteAddr = "203.0.113.7:52100"
	w := f.do(r)

	lines := f.logs.records(t, "request")
	if len(lines) != 1 {
		t.Fatalf("access log lines = %d, want 1:\n%s", len(lines), f.logs)
	}
	got := lines[0]
	if d, ok := got["duration_ms"].(float64); !ok || d < 0 {
		t.Errorf("duration_ms = %v, want a non-negative number", got["duration_ms"])
	}
	delete(got, "time")
	delete(got, "duration_ms")
	want := map[string]any{
		"level": "INFO", "msg": "request", "request_id": "req-log", "method": "GET", "path": "/graphql",
		"status": float64(200), "bytes": float64(w.Body.Len()), "client_ip": "203.0.113.7",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("access log (-want +got):\n%s", diff)
	}
	for _, secret := range []string{"ann", "example.com", "variables", "token-in-header"} {
		if strings.Contains(f.logs.String(), secret) {
			t.Errorf("log contains %q:\n%s", secret, f.logs)
		}
	}
}

// TestWebsocketUpgrade drives a real connection: the upgrade must reach the
// GraphQL handler untouched (no authentication, no org check), and the
// access log's ResponseWriter must let it hijack the connection.
func TestWebsocketUpgrade(t *testing.T) {
	authCalls := 0
	var sawIdentity bool
	f := newFixture(t, func(c *httpserver.Config) {
		c.Authenticate = func(context.Context, string) (authn.Identity, error) {
			authCalls++
			return authn.Identity{}, nil
		}
		c.GraphQL = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, sawIdentity = authn.FromContext(r.Context())
			conn, rw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			defer conn.Close()
			_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
			_ = rw.Flush()
		})
	})
	srv := httptest.NewServer(f.h)
	t.Cleanup(srv.Close)

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = fmt.Fprint(conn, "GET /graphql HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Authorization: Bearer ws-token\r\nX-Organization-Id: not-a-uuid\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Errorf("status = %d, want 101", resp.StatusCode)
	}

	line := waitForLog(t, f, "request")
	if line["status"] != float64(101) || line["path"] != "/graphql" {
		t.Errorf("access log = %v, want status 101 on /graphql", line)
	}
	if authCalls != 0 || sawIdentity {
		t.Errorf("authenticate called %d times (identity %v), want none for an upgrade", authCalls, sawIdentity)
	}
}

// waitForLog waits for the server goroutine to log msg: the access line is
// written only after the handler returns, which the client cannot observe.
func waitForLog(t *testing.T, f *fixture, msg string) map[string]any {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		if recs := f.logs.records(t, msg); len(recs) > 0 {
			return recs[0]
		}
		select {
		case <-f.logs.wrote:
		case <-timeout:
			t.Fatalf("no %q log line:\n%s", msg, f.logs)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t, func(c *httpserver.Config) {
		c.Playground = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>")) })
	})
	for _, path := range []string{"/", "/graphql", "/healthz", "/readyz", "/metrics", "/nope"} {
		t.Run(path, func(t *testing.T) {
			w := f.do(httptest.NewRequest(http.MethodGet, path, nil))
			if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
		})
	}
}
