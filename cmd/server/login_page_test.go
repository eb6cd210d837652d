package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/quirehq/quire/internal/policy"
)

// TestLoginPageDoesNotSpendTheLink: opening the link (as a mail scanner
// does) serves the page and leaves the token usable; the page forbids
// referrers and foreign scripts.
func TestLoginPageDoesNotSpendTheLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, link, err := e.app.accounts.CreateWithLink(t.Context(), "clicker@example.com", nil, policy.PlatformUser)
	if err != nil {
		t.Fatal(err)
	}
	token := tokenOf(t, link)
	for _, path := range []string{"/login?token=" + token, "/login.js"} {
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, path, nil))
		h := rec.Header()
		if rec.Code != 200 || h.Get("Referrer-Policy") != "no-referrer" || !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("GET %s: %d, headers %v", strings.Split(path, "?")[0], rec.Code, h)
		}
		if strings.Contains(rec.Body.String(), token) {
			t.Errorf("GET %s echoes the token into the page", strings.Split(path, "?")[0])
		}
	}
	e.post(caller{}, `mutation($t: String!) { signInWithLink(token: $t) { accessToken } }`, map[string]any{"t": token}).ok(t)
	if !strings.Contains(e.log.String(), `"path":"/login"`) || strings.Contains(e.log.String(), token) {
		t.Errorf("the access log must record /login without its query string")
	}
}
