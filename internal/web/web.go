// Package web serves the pages a sign-in link lands on. The page never signs
// in on its own: mail scanners fetch links, and a single-use token spent by
// a scanner is lost to its owner, so signing in waits for a click.
package web

import (
	"embed"
	"net/http"
)

//go:embed login.html login.js
var files embed.FS

// StoragePrefix is the playground's storage prefix; the login page stores
// the Authorization header under it so the playground opens signed in.
const StoragePrefix = "quire:"

// Handler serves GET /login and its script.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		// The URL carries a secret: no referrer may repeat it, no cache keep
		// it, no frame or foreign script see it.
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; "+
			"style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		switch r.URL.Path {
		case "/login":
			h.Set("Content-Type", "text/html; charset=utf-8")
			b, _ := files.ReadFile("login.html")
			_, _ = w.Write(b)
		case "/login.js":
			h.Set("Content-Type", "text/javascript; charset=utf-8")
			b, _ := files.ReadFile("login.js")
			_, _ = w.Write(b)
		default:
			http.NotFound(w, r)
		}
	})
}
