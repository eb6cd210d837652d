// Package web serves the pages sign-in and invitation links land on. A page
// never acts on its own: mail scanners fetch links, and a single-use token
// spent by a scanner is lost to its owner, so signing in, accepting and
// declining wait for a click.
package web

import (
	"embed"
	"net/http"
)

//go:embed login.html login.js invite.html invite.js
var files embed.FS

// pages maps each path served to its file and content type.
var pages = map[string]struct{ file, contentType string }{
	"/login":     {"login.html", "text/html; charset=utf-8"},
	"/login.js":  {"login.js", "text/javascript; charset=utf-8"},
	"/invite":    {"invite.html", "text/html; charset=utf-8"},
	"/invite.js": {"invite.js", "text/javascript; charset=utf-8"},
}

// StoragePrefix is the playground's storage prefix; the login page stores
// the Authorization header under it so the playground opens signed in.
const StoragePrefix = "quire:"

// Handler serves GET /login and /invite and their scripts.
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
		page, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h.Set("Content-Type", page.contentType)
		b, _ := files.ReadFile(page.file)
		_, _ = w.Write(b)
	})
}
