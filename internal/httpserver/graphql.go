package httpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/authn"
	"github.com/quirehq/quire/internal/qerr"
)

// maxBodyBytes is API.md's request body limit.
const maxBodyBytes = 1 << 20

const graphQLMethods = "GET, POST, OPTIONS"

// precheck refuses, before GraphQL runs, requests it could only fail on: a
// method other than GET or POST, a POST that is not a JSON object of at most
// 1 MB in UTF-8, and an X-Organization-Id that is not a UUID. A POST's body
// is read here once and handed on as bytes. Websocket upgrades pass untouched: their
// organization and credentials come in connection_init.
func precheck(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && isWebsocketUpgrade(r):
			next.ServeHTTP(w, r)
			return
		case r.Method == http.MethodPost:
			if !readJSONBody(w, r) {
				return
			}
		case r.Method != http.MethodGet:
			methodNotAllowed(w, graphQLMethods)
			return
		}
		ctx, ok := requestedOrg(w, r)
		if !ok {
			return
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// readJSONBody checks a POST's content type and body, replaces r.Body with
// the bytes read, and reports whether to go on; on false it has answered.
func readJSONBody(w http.ResponseWriter, r *http.Request) bool {
	// Requiring application/json also stops cross-site form posts: a
	// browser must preflight it, and CORS decides the preflight.
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		WriteError(w, http.StatusUnsupportedMediaType, qerr.BadUserInput,
			"Content-Type must be application/json", nil)
		return false
	}
	b, err := readBody(w, r)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			WriteError(w, http.StatusRequestEntityTooLarge, qerr.QueryTooComplex,
				"request body is larger than 1 MB", map[string]any{"limit": "body_size"})
			return false
		}
		WriteError(w, http.StatusBadRequest, qerr.BadUserInput, "request body could not be read", nil)
		return false
	}
	if msg := checkJSONObject(b); msg != "" {
		WriteError(w, http.StatusBadRequest, qerr.BadUserInput, msg, nil)
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.ContentLength = int64(len(b))
	return true
}

// readBody reads at most maxBodyBytes, failing with *http.MaxBytesError
// beyond that; a declared Content-Length over the limit fails unread.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > maxBodyBytes {
		return nil, &http.MaxBytesError{Limit: maxBodyBytes}
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
}

// checkJSONObject returns the client message for a body that is not one JSON
// object, or "".
func checkJSONObject(b []byte) string {
	if !json.Valid(b) {
		return "request body is not valid JSON"
	}
	// JSON text is UTF-8 (RFC 8259 §8.1). encoding/json would replace
	// invalid bytes with U+FFFD, so a note would be stored as something
	// other than what was sent, with no error.
	if !utf8.Valid(b) {
		return "request body is not valid UTF-8"
	}
	switch bytes.TrimLeft(b, " \t\r\n")[0] {
	case '{':
		return ""
	case '[':
		return "batched requests are not supported"
	}
	return "request body must be a JSON object"
}

// requestedOrg puts a valid X-Organization-Id on the context; on false it
// has answered 400.
func requestedOrg(w http.ResponseWriter, r *http.Request) (context.Context, bool) {
	if _, present := r.Header["X-Organization-Id"]; !present {
		return r.Context(), true
	}
	org, err := uuid.Parse(r.Header.Get("X-Organization-Id"))
	if err != nil {
		WriteError(w, http.StatusBadRequest, qerr.BadUserInput, "X-Organization-Id header must be a UUID", nil)
		return nil, false
	}
	return authn.WithRequestedOrg(r.Context(), org), true
}

// isWebsocketUpgrade reports whether r asks to switch to websocket. Upgrade
// is a comma-separated list, matched case-insensitively (RFC 9110 §7.8).
func isWebsocketUpgrade(r *http.Request) bool {
	for _, v := range r.Header.Values("Upgrade") {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "websocket") {
				return true
			}
		}
	}
	return false
}

// authenticate resolves the Authorization header into an identity on the
// context. A refused credential is not answered here: the failure goes on
// the context, so @public fields still work and @authenticated ones answer
// UNAUTHENTICATED. Websocket upgrades authenticate in connection_init.
func authenticate(
	fn func(ctx context.Context, authorization string) (authn.Identity, error),
	keys *limiter, logger *slog.Logger, next http.Handler,
) http.Handler {
	if fn == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		if header == "" || isWebsocketUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		id, err := fn(ctx, header)
		if err != nil {
			// The header itself is never logged; fn's errors never hold it.
			logger.WarnContext(ctx, "authentication failed",
				slog.String("request_id", requestID(r)), slog.String("reason", err.Error()))
			ctx = authn.NewFailureContext(ctx, err)
		} else {
			ctx = authn.NewContext(ctx, id)
		}
		if err == nil && id.Kind == authn.KindAPIKey && keys != nil && !keys.allow("key:"+id.APIKeyID.String()) {
			w.Header().Set("Retry-After", "1")
			WriteError(w, http.StatusTooManyRequests, qerr.RateLimited, "rate limit of this API key exceeded",
				map[string]any{"retryAfter": 1})
			return
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
