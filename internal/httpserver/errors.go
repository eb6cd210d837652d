package httpserver

import (
	"encoding/json"
	"net/http"

	"github.com/quirehq/quire/internal/qerr"
)

type errorBody struct {
	Errors []errorEntry `json:"errors"`
}

type errorEntry struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

// WriteError answers status with a GraphQL-shaped error body,
// {"errors":[{"message":message,"extensions":{"code":code,…}}]}, the shape
// API.md requires of errors raised before GraphQL runs. extensions may add
// keys such as "limit"; "code" always comes from code. message is shown to
// the client, so it must never carry internal text.
func WriteError(w http.ResponseWriter, status int, code qerr.Code, message string, extensions map[string]any) {
	ext := make(map[string]any, len(extensions)+1)
	for k, v := range extensions {
		ext[k] = v
	}
	ext["code"] = code
	b, err := json.Marshal(errorBody{Errors: []errorEntry{{Message: message, Extensions: ext}}})
	if err != nil {
		// Only an unmarshalable extension value gets here; drop the
		// extensions rather than answer without a code.
		ext = map[string]any{"code": code}
		b, _ = json.Marshal(errorBody{Errors: []errorEntry{{Message: message, Extensions: ext}}})
	}
	writeJSON(w, status, b)
}

// writeStatus answers {"status":status}, the body of /healthz and /readyz.
func writeStatus(w http.ResponseWriter, code int, status string) {
	b, _ := json.Marshal(map[string]string{"status": status}) // a map of strings always marshals
	writeJSON(w, code, b)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client went away; nothing left to tell it
}

// methodNotAllowed answers 405 with the Allow header RFC 9110 requires.
func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	WriteError(w, http.StatusMethodNotAllowed, qerr.BadUserInput, "method not allowed", nil)
}
