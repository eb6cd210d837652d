package httpserver

import (
	"net/http"
)

// Values of the CORS response headers. Credentials mode is never enabled:
// clients send bearer tokens, not cookies.
const (
	corsAllowMethods  = "GET, POST, OPTIONS"
	corsAllowHeaders  = "Authorization, Content-Type, X-Organization-Id, X-Request-Id"
	corsExposeHeaders = "X-Request-Id, Retry-After"
	corsMaxAge        = "600"
)

// cors decides which browser origins may call /graphql.
type cors struct {
	any     bool
	origins map[string]bool
}

func newCORS(origins []string) *cors {
	c := &cors{origins: make(map[string]bool, len(origins))}
	for _, o := range origins {
		if o == "*" {
			c.any = true
		}
		c.origins[o] = true
	}
	return c
}

func (c *cors) allowed(origin string) bool {
	return origin != "" && (c.any || c.origins[origin])
}

// middleware answers every OPTIONS request itself, with 204 and the allowed
// methods; CORS headers are added only for an allowed Origin, so the browser
// blocks every other origin. Other requests from an allowed origin get
// Access-Control-Allow-Origin set to that origin.
func (c *cors) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// Caches must not serve one origin's answer to another.
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		ok := c.allowed(origin)
		if ok {
			h.Set("Access-Control-Allow-Origin", origin)
		}
		if r.Method != http.MethodOptions {
			if ok {
				h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
			}
			next.ServeHTTP(w, r)
			return
		}
		h.Set("Allow", corsAllowMethods)
		if ok {
			h.Set("Access-Control-Allow-Methods", corsAllowMethods)
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", corsMaxAge)
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
