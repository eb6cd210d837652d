package httpserver_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/quirehq/quire/internal/httpserver"
)

func TestRoutes(t *testing.T) {
	playground := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "<html>") })
	down := func(context.Context) error { return errors.New("dial tcp 10.0.0.5:5432: connection refused") }
	var readyDeadline bool
	up := func(ctx context.Context) error {
		_, readyDeadline = ctx.Deadline()
		return nil
	}
	tests := []struct {
		name       string
		edit       func(*httpserver.Config)
		method     string
		path       string
		wantStatus int
		wantBody   string // exact, for non-error answers
		wantCode   string // extensions.code, for error answers
	}{
		{name: "healthz", path: "/healthz", wantStatus: 200, wantBody: `{"status":"ok"}`},
		{name: "readyz without check", path: "/readyz", wantStatus: 200, wantBody: `{"status":"ok"}`},
		{name: "readyz up", edit: func(c *httpserver.Config) { c.Ready = up },
			path: "/readyz", wantStatus: 200, wantBody: `{"status":"ok"}`},
		{name: "readyz down", edit: func(c *httpserver.Config) { c.Ready = down },
			path: "/readyz", wantStatus: 503, wantBody: `{"status":"unavailable"}`},
		{name: "playground", edit: func(c *httpserver.Config) { c.Playground = playground },
			path: "/", wantStatus: 200, wantBody: "<html>"},
		{name: "no playground", path: "/", wantStatus: 404, wantCode: "NOT_FOUND"},
		{name: "POST playground", edit: func(c *httpserver.Config) { c.Playground = playground },
			method: http.MethodPost, path: "/", wantStatus: 405, wantCode: "BAD_USER_INPUT"},
		{name: "unknown path", path: "/x", wantStatus: 404, wantCode: "NOT_FOUND"},
		{name: "graphql subpath", path: "/graphql/", wantStatus: 404, wantCode: "NOT_FOUND"},
		{name: "POST healthz", method: http.MethodPost, path: "/healthz", wantStatus: 405, wantCode: "BAD_USER_INPUT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.edit)
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			w := f.do(httptest.NewRequest(method, tc.path, nil))
			if w.Code != tc.wantStatus {
				t.Errorf("status = %d, want %d", w.Code, tc.wantStatus)
			}
			if tc.wantCode != "" {
				if got := decodeError(t, w).Extensions["code"]; got != tc.wantCode {
					t.Errorf("code = %v, want %s", got, tc.wantCode)
				}
				return
			}
			if got := strings.TrimSpace(w.Body.String()); got != tc.wantBody {
				t.Errorf("body = %q, want %q", got, tc.wantBody)
			}
		})
	}
	if !readyDeadline {
		t.Error("readiness check ran without a deadline")
	}
}

func TestReadyzLogsCause(t *testing.T) {
	f := newFixture(t, func(c *httpserver.Config) {
		c.Ready = func(context.Context) error { return errors.New("connection refused") }
	})
	w := f.do(httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if strings.Contains(w.Body.String(), "refused") {
		t.Errorf("body leaks the cause: %s", w.Body)
	}
	if got := w.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	lines := f.logs.records(t, "not ready")
	if len(lines) != 1 || lines[0]["level"] != "WARN" || lines[0]["error"] != "connection refused" {
		t.Errorf("log = %v, want one WARN with the cause", lines)
	}
}

func TestMetrics(t *testing.T) {
	f := newFixture(t, nil)
	f.do(postJSON(`{}`))
	f.do(httptest.NewRequest(http.MethodPut, "/graphql", nil))
	f.do(httptest.NewRequest(http.MethodGet, "/some/random/path", nil))
	f.do(httptest.NewRequest("BREW", "/healthz", nil))

	w := f.do(httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d", w.Code)
	}
	body := w.Body.String()
	for _, want := range []string{
		`quire_http_requests_total{code="200",method="POST",route="/graphql"} 1`,
		`quire_http_requests_total{code="405",method="PUT",route="/graphql"} 1`,
		`quire_http_requests_total{code="404",method="GET",route="other"} 1`,
		`quire_http_requests_total{code="405",method="other",route="/healthz"} 1`,
		`quire_http_request_duration_seconds_count{route="/graphql"} 2`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	for _, leak := range []string{"/some/random/path", "BREW"} {
		if strings.Contains(body, leak) {
			t.Errorf("metrics contain the raw %q", leak)
		}
	}
}

func TestNewTwiceOnOneRegistry(t *testing.T) {
	f := newFixture(t, nil)
	h := httpserver.New(httpserver.Config{Registry: f.reg}) // must not panic
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/healthz", nil))
	w := f.do(httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if !strings.Contains(w.Body.String(), `quire_http_requests_total{code="200",method="GET",route="/healthz"} 1`) {
		t.Error("second handler does not count into the shared registry")
	}
}

func TestCORS(t *testing.T) {
	preflight := map[string]string{
		"Access-Control-Allow-Origin":  "https://app.example",
		"Access-Control-Allow-Methods": "GET, POST, OPTIONS",
		"Access-Control-Allow-Headers": "Authorization, Content-Type, X-Organization-Id, X-Request-Id",
		"Access-Control-Max-Age":       "600",
		"Vary":                         "Origin",
	}
	none := map[string]string{"Vary": "Origin"}
	tests := []struct {
		name       string
		origins    []string
		method     string
		origin     string
		wantStatus int
		want       map[string]string
	}{
		{name: "preflight allowed", origins: []string{"https://app.example"}, method: http.MethodOptions,
			origin: "https://app.example", wantStatus: 204, want: preflight},
		{name: "preflight any", origins: []string{"*"}, method: http.MethodOptions,
			origin: "https://app.example", wantStatus: 204, want: preflight},
		{name: "preflight disallowed", origins: []string{"https://app.example"}, method: http.MethodOptions,
			origin: "https://evil.example", wantStatus: 204, want: none},
		{name: "preflight no config", method: http.MethodOptions,
			origin: "https://app.example", wantStatus: 204, want: none},
		{name: "POST allowed", origins: []string{"https://other.example", "https://app.example"}, method: http.MethodPost,
			origin: "https://app.example", wantStatus: 200, want: map[string]string{
				"Access-Control-Allow-Origin": "https://app.example", "Vary": "Origin"}},
		{name: "POST disallowed", origins: []string{"https://app.example"}, method: http.MethodPost,
			origin: "https://app.example.evil", wantStatus: 200, want: none},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(c *httpserver.Config) { c.CORSOrigins = tc.origins })
			r := postJSON(`{}`)
			r.Method = tc.method
			r.Header.Set("Origin", tc.origin)
			r.Header.Set("Access-Control-Request-Method", "POST")
			w := f.do(r)
			if w.Code != tc.wantStatus {
				t.Errorf("status = %d, want %d", w.Code, tc.wantStatus)
			}
			got := map[string]string{}
			for k := range w.Header() {
				if strings.HasPrefix(k, "Access-Control-Allow-") || k == "Access-Control-Max-Age" || k == "Vary" {
					got[k] = w.Header().Get(k)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("CORS headers (-want +got):\n%s", diff)
			}
			if tc.method == http.MethodOptions && f.calls.Load() != 0 {
				t.Error("preflight reached the GraphQL handler")
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	// 0.001/s: no token comes back while the test runs.
	f := newFixture(t, func(c *httpserver.Config) { c.RateLimit, c.RateBurst = 0.001, 2 })
	from := func(ip, path string) *httptest.ResponseRecorder {
		r := postJSON(`{}`)
		r.URL.Path = path
		r.RemoteAddr = ip + ":1234"
		return f.do(r)
	}
	for i, want := range []int{200, 200, 429} {
		if w := from("198.51.100.1", "/graphql"); w.Code != want {
			t.Fatalf("request %d: status = %d, want %d", i+1, w.Code, want)
		}
	}
	w := from("198.51.100.1", "/graphql")
	if got := decodeError(t, w).Extensions["code"]; got != "RATE_LIMITED" || w.Header().Get("Retry-After") != "1" {
		t.Errorf("code = %v, Retry-After = %q; want RATE_LIMITED, 1", got, w.Header().Get("Retry-After"))
	}
	if f.calls.Load() != 2 {
		t.Errorf("GraphQL handler called %d times, want 2", f.calls.Load())
	}
	if w := from("198.51.100.2", "/graphql"); w.Code != 200 {
		t.Errorf("another client: status = %d, want 200", w.Code)
	}
	if w := from("198.51.100.1", "/healthz"); w.Code != 405 { // reached routing: not limited
		t.Errorf("/healthz: status = %d, want 405 (POST), not limited", w.Code)
	}
}

func TestRateLimitDisabled(t *testing.T) {
	f := newFixture(t, func(c *httpserver.Config) { c.RateBurst = 1 })
	for i := range 20 {
		if w := f.do(postJSON(`{}`)); w.Code != 200 {
			t.Fatalf("request %d: status = %d, want 200", i+1, w.Code)
		}
	}
}

func TestLimiterEviction(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	l := httpserver.NewTestLimiter(1, 1, 2, func() time.Time { return now })
	steps := []struct {
		name      string
		advance   time.Duration
		key       string
		wantAllow bool
		wantSize  int
	}{
		{name: "a first", key: "a", wantAllow: true, wantSize: 1},
		{name: "a again", key: "a", wantAllow: false, wantSize: 1},
		{name: "b first", key: "b", wantAllow: true, wantSize: 2},
		{name: "c shares overflow at cap", key: "c", wantAllow: true, wantSize: 2},
		{name: "d overflow spent", key: "d", wantAllow: false, wantSize: 2},
		{name: "idle entries swept", advance: 10 * time.Minute, key: "c", wantAllow: true, wantSize: 1},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		if got := l.Allow(s.key); got != s.wantAllow {
			t.Errorf("%s: allow = %v, want %v", s.name, got, s.wantAllow)
		}
		if got := l.Size(); got != s.wantSize {
			t.Errorf("%s: size = %d, want %d", s.name, got, s.wantSize)
		}
	}
}

func TestClientKey(t *testing.T) {
	tests := []struct{ name, ip, want string }{
		{name: "IPv4", ip: "192.0.2.1", want: "192.0.2.1"},
		{name: "IPv6 by /64", ip: "2001:db8:1:2:aaaa::1", want: "2001:db8:1:2::/64"},
		{name: "IPv6 same /64", ip: "2001:db8:1:2:ffff::9", want: "2001:db8:1:2::/64"},
		{name: "IPv4-mapped", ip: "::ffff:192.0.2.1", want: "::ffff:192.0.2.1"},
		{name: "not an IP", ip: "pipe", want: "pipe"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := httpserver.ClientKey(tc.ip); got != tc.want {
				t.Errorf("ClientKey(%q) = %q, want %q", tc.ip, got, tc.want)
			}
		})
	}
}
