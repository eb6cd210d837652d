package httpserver_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/authn"
	"github.com/quirehq/quire/internal/httpserver"
)

// TestKeyRateLimit: each API key has its own bucket, after authentication;
// over it answers 429 RATE_LIMITED with a retry hint, and other keys and
// users are not held back.
func TestKeyRateLimit(t *testing.T) {
	keyA, keyB := uuid.New(), uuid.New()
	f := newFixture(t, func(c *httpserver.Config) {
		c.KeyRateLimit, c.KeyRateBurst = 0.001, 2
		c.Authenticate = func(_ context.Context, h string) (authn.Identity, error) {
			switch h {
			case "Bearer key-a":
				return authn.Identity{Kind: authn.KindAPIKey, APIKeyID: keyA}, nil
			case "Bearer key-b":
				return authn.Identity{Kind: authn.KindAPIKey, APIKeyID: keyB}, nil
			}
			return authn.Identity{Kind: authn.KindUser, UserID: uuid.New()}, nil
		}
	})
	send := func(auth string) int {
		r := postJSON(`{"query":"{ me { id } }"}`)
		r.Header.Set("Authorization", auth)
		w := f.do(r)
		if w.Code == http.StatusTooManyRequests {
			e := decodeError(t, w)
			if e.Extensions["code"] != "RATE_LIMITED" || e.Extensions["retryAfter"] != float64(1) || w.Header().Get("Retry-After") != "1" {
				t.Errorf("429 without RATE_LIMITED and a retry hint: %+v %v", e, w.Header())
			}
		}
		return w.Code
	}
	for i, want := range []int{200, 200, 429, 429} {
		if got := send("Bearer key-a"); got != want {
			t.Errorf("key A request %d: status %d, want %d", i+1, got, want)
		}
	}
	if got := send("Bearer key-b"); got != 200 {
		t.Errorf("key B held back by key A's limit: %d", got)
	}
	for range 5 {
		if got := send("Bearer user-token"); got != 200 {
			t.Errorf("a user held back by the key limit: %d", got)
		}
	}
	if n := f.calls.Load(); n != 8 {
		t.Errorf("%d requests reached GraphQL, want 8 (the refused ones must not)", n)
	}
}
