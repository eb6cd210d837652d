package authn_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/apikey"
	"github.com/quirehq/quire/internal/authn"
	"github.com/quirehq/quire/internal/qerr"
)

// The seed corpus's tokens were signed with this secret at this time; the
// fuzz clock stands still there, so they stay valid.
var (
	fuzzSecret = []byte("fuzz-secret-0123456789-abcdefghijklmn")
	fuzzNow    = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
)

// FuzzAuthenticate: an Authorization header is client input. Authenticate
// never panics; a refusal is UNAUTHENTICATED and its error (which is
// logged) never contains the credential; and what it accepts is "Bearer "
// and an HS256 token this secret signed, spelled canonically (one token,
// one spelling), whose claims are the identity returned.
func FuzzAuthenticate(f *testing.F) {
	tokens := authn.NewTokens(fuzzSecret, func() time.Time { return fuzzNow })
	a := &authn.Authenticator{Tokens: tokens, Keys: &apikey.Checker{}}
	tok, _, err := tokens.Issue(uuid.MustParse("01a20588-0000-7000-8000-000000000001"), uuid.Max)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("Bearer " + tok)
	f.Fuzz(func(t *testing.T, header string) {
		cred, bearer := bearerCredential(header)
		if _, err := apikey.Parse(cred); bearer && err == nil {
			t.Skip("a well-formed API key is looked up in the database; the end-to-end tests cover that path")
		}
		id, err := a.Authenticate(t.Context(), header)
		if err != nil {
			if qerr.CodeOf(err) != qerr.Unauthenticated {
				t.Fatalf("Authenticate(%q) = %v, want UNAUTHENTICATED", header, err)
			}
			if len(cred) >= 8 && strings.Contains(err.Error(), cred) {
				t.Fatalf("the error %q contains the credential", err)
			}
			return
		}
		if !bearer {
			t.Fatalf("Authenticate(%q) accepted a header that is not \"Bearer <token>\"", header)
		}
		checkSigned(t, cred, id)
	})
}

// bearerCredential reads header as RFC 6750 and Authenticate do: the scheme
// Bearer in any case, one space, the credential, surrounding space ignored.
func bearerCredential(header string) (string, bool) {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(header), " ")
	cred = strings.TrimSpace(cred)
	return cred, ok && strings.EqualFold(scheme, "Bearer") && cred != ""
}

// checkSigned fails unless token is three base64url parts, the header says
// HS256, the signature is the canonical encoding of the HMAC of the first
// two parts under fuzzSecret, and sub and sid are id's user and session.
func checkSigned(t *testing.T, token string, id authn.Identity) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("accepted %q, which has %d parts", token, len(parts))
	}
	mac := hmac.New(sha256.New, fuzzSecret)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if want := base64.RawURLEncoding.EncodeToString(mac.Sum(nil)); parts[2] != want {
		t.Fatalf("accepted %q, whose signature is not spelled %q", token, want)
	}
	var head struct{ Alg string }
	var claims struct{ Sub, Sid string }
	if !decodeJSON(parts[0], &head) || head.Alg != "HS256" || !decodeJSON(parts[1], &claims) {
		t.Fatalf("accepted %q: header %+v", token, head)
	}
	if id.Kind != authn.KindUser || uuid.MustParse(claims.Sub) != id.UserID || uuid.MustParse(claims.Sid) != id.SessionID {
		t.Fatalf("accepted %q as %+v; its claims are %+v", token, id, claims)
	}
}

func decodeJSON(part string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(part)
	return err == nil && json.Unmarshal(b, v) == nil
}
