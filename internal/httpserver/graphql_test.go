package httpserver_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/authn"
	"github.com/quirehq/quire/internal/httpserver"
)

func TestPrecheckRefuses(t *testing.T) {
	big := `{"query":"` + strings.Repeat("a", 1<<20) + `"}`
	tests := []struct {
		name      string
		req       func() *http.Request
		status    int
		code      string
		message   string
		limit     string
		allow     string
		bodyStays bool
	}{
		{name: "body over 1 MB with Content-Length", req: func() *http.Request { return postJSON(big) },
			status: 413, code: "QUERY_TOO_COMPLEX", message: "request body is larger than 1 MB", limit: "body_size"},
		{name: "body over 1 MB chunked", req: func() *http.Request {
			r := postJSON(big)
			r.ContentLength = -1
			return r
		}, status: 413, code: "QUERY_TOO_COMPLEX", message: "request body is larger than 1 MB", limit: "body_size"},
		{name: "not JSON", req: func() *http.Request { return postJSON(`query { me { id } }`) },
			status: 400, code: "BAD_USER_INPUT", message: "request body is not valid JSON"},
		{name: "empty body", req: func() *http.Request { return postJSON(``) },
			status: 400, code: "BAD_USER_INPUT", message: "request body is not valid JSON"},
		{name: "batch", req: func() *http.Request { return postJSON(`[{"query":"{me{id}}"}]`) },
			status: 400, code: "BAD_USER_INPUT", message: "batched requests are not supported"},
		{name: "JSON string", req: func() *http.Request { return postJSON(`"{me{id}}"`) },
			status: 400, code: "BAD_USER_INPUT", message: "request body must be a JSON object"},
		{name: "wrong content type", req: func() *http.Request {
			r := postJSON(`{"query":"{me{id}}"}`)
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, status: 415, code: "BAD_USER_INPUT", message: "Content-Type must be application/json"},
		{name: "no content type", req: func() *http.Request {
			r := postJSON(`{"query":"{me{id}}"}`)
			r.Header.Del("Content-Type")
			return r
		}, status: 415, code: "BAD_USER_INPUT", message: "Content-Type must be application/json"},
		{name: "PUT", req: func() *http.Request {
			return httptest.NewRequest(http.MethodPut, "/graphql", strings.NewReader(`{}`))
		}, status: 405, code: "BAD_USER_INPUT", message: "method not allowed", allow: "GET, POST, OPTIONS"},
		{name: "DELETE", req: func() *http.Request { return httptest.NewRequest(http.MethodDelete, "/graphql", nil) },
			status: 405, code: "BAD_USER_INPUT", message: "method not allowed", allow: "GET, POST, OPTIONS"},
		{name: "bad X-Organization-Id on POST", req: func() *http.Request {
			r := postJSON(`{"query":"{me{id}}"}`)
			r.Header.Set("X-Organization-Id", "acme")
			return r
		}, status: 400, code: "BAD_USER_INPUT", message: "X-Organization-Id header must be a UUID"},
		{name: "empty X-Organization-Id on GET", req: func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/graphql?query=%7Bme%7Bid%7D%7D", nil)
			r.Header.Set("X-Organization-Id", "")
			return r
		}, status: 400, code: "BAD_USER_INPUT", message: "X-Organization-Id header must be a UUID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			w := f.do(tc.req())
			if w.Code != tc.status {
				t.Errorf("status = %d, want %d", w.Code, tc.status)
			}
			e := decodeError(t, w)
			want := map[string]any{"code": tc.code}
			if tc.limit != "" {
				want["limit"] = tc.limit
			}
			if diff := cmp.Diff(want, e.Extensions); diff != "" {
				t.Errorf("extensions (-want +got):\n%s", diff)
			}
			if e.Message != tc.message {
				t.Errorf("message = %q, want %q", e.Message, tc.message)
			}
			if got := w.Header().Get("Allow"); got != tc.allow {
				t.Errorf("Allow = %q, want %q", got, tc.allow)
			}
			if n := f.calls.Load(); n != 0 {
				t.Errorf("GraphQL handler called %d times, want 0", n)
			}
		})
	}
}

func TestPrecheckPasses(t *testing.T) {
	org := uuid.MustParse("0b6c3a9e-9a43-4c55-8f0e-0e7b2a1f5d11")
	exact := []byte(`{"query":"` + strings.Repeat("a", 1<<20-12) + `"}`) // exactly 1 MB
	body := `{"query":"query($id: ID!) { note(id: $id) { title } }",` + "\n" + ` "variables":{"id":"é"}}`
	tests := []struct {
		name string
		req  func() *http.Request
		want seen
	}{
		{name: "POST body unchanged", req: func() *http.Request { return postJSON(body) },
			want: seen{Method: "POST", Body: body, ContentLength: int64(len(body))}},
		{name: "POST with charset and org", req: func() *http.Request {
			r := postJSON(body)
			r.ContentLength = -1
			r.Header.Set("Content-Type", "application/json; charset=utf-8")
			r.Header.Set("X-Organization-Id", org.String())
			return r
		}, want: seen{Method: "POST", Body: body, ContentLength: int64(len(body)), Org: org.String()}},
		{name: "POST of exactly 1 MB", req: func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(exact))
			r.Header.Set("Content-Type", "application/json")
			return r
		}, want: seen{Method: "POST", Body: string(exact), ContentLength: 1 << 20}},
		{name: "GET persisted query with org", req: func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/graphql?extensions=%7B%7D", nil)
			r.Header.Set("X-Organization-Id", org.String())
			return r
		}, want: seen{Method: "GET", Org: org.String()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			r := tc.req()
			r.Header.Set("X-Request-Id", "req-1")
			w := f.do(r)
			if w.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", w.Code, w.Body)
			}
			tc.want.RequestID = "req-1"
			if diff := cmp.Diff(tc.want, decodeSeen(t, w)); diff != "" {
				t.Errorf("GraphQL handler saw (-want +got):\n%s", diff)
			}
			if got := w.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
		})
	}
}

func TestAuthenticate(t *testing.T) {
	user := uuid.MustParse("6f1d7c1e-2f3a-4a4b-9c6d-7e8f9a0b1c2d")
	const goodToken, badToken = "Bearer good.jwt.token-s3cret", "Bearer qk_abc_v3ry-s3cret-key"
	const query = `{"query":"{me{id}}"}`
	auth := func(_ context.Context, header string) (authn.Identity, error) {
		if header == goodToken {
			return authn.Identity{Kind: authn.KindUser, UserID: user}, nil
		}
		return authn.Identity{}, errors.New("api key revoked")
	}
	tests := []struct {
		name      string
		header    string
		want      seen
		wantWarns []map[string]any
	}{
		{name: "no header", want: seen{Method: "POST"}},
		{name: "valid credential", header: goodToken, want: seen{Method: "POST", UserID: user.String()}},
		{name: "refused credential", header: badToken, want: seen{Method: "POST", AuthFailure: "api key revoked"},
			wantWarns: []map[string]any{{"level": "WARN", "msg": "authentication failed",
				"request_id": "req-1", "reason": "api key revoked"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(c *httpserver.Config) { c.Authenticate = auth })
			r := postJSON(query)
			r.Header.Set("X-Request-Id", "req-1")
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			w := f.do(r)
			tc.want.Body, tc.want.ContentLength, tc.want.RequestID = query, int64(len(query)), "req-1"
			if diff := cmp.Diff(tc.want, decodeSeen(t, w)); diff != "" {
				t.Errorf("GraphQL handler saw (-want +got):\n%s", diff)
			}
			warns := f.logs.records(t, "authentication failed")
			for _, rec := range warns {
				delete(rec, "time")
			}
			if diff := cmp.Diff(tc.wantWarns, warns); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			for _, secret := range []string{"good.jwt.token-s3cret", "v3ry-s3cret-key", "qk_abc"} {
				if strings.Contains(f.logs.String(), secret) {
					t.Errorf("log contains credential %q:\n%s", secret, f.logs)
				}
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	tests := []struct {
		name   string
		header string
		adopt  bool
	}{
		{name: "valid id adopted", header: "client-Req_1.2", adopt: true},
		{name: "missing id generated"},
		{name: "unsafe id replaced", header: "bad id\n{}"},
		{name: "overlong id replaced", header: strings.Repeat("a", 65)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			r := postJSON(`{}`)
			if tc.header != "" {
				r.Header.Set("X-Request-Id", tc.header)
			}
			w := f.do(r)
			got := w.Header().Get("X-Request-Id")
			if tc.adopt && got != tc.header {
				t.Errorf("X-Request-Id = %q, want %q", got, tc.header)
			}
			if !tc.adopt && (got == tc.header || len(got) != 24) {
				t.Errorf("X-Request-Id = %q, want a fresh 24-character id", got)
			}
			if s := decodeSeen(t, w); s.RequestID != got {
				t.Errorf("context request id = %q, header %q", s.RequestID, got)
			}
			logs := f.logs.records(t, "request")
			if len(logs) != 1 || logs[0]["request_id"] != got {
				t.Errorf("access log %v, want one line with request_id %q", logs, got)
			}
		})
	}
}
