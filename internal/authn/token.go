package authn

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/apikey"
	"github.com/quirehq/quire/internal/qerr"
)

// Access tokens are HS256 JWTs that say who, never what: sub (user), sid
// (session), iss, aud, iat, exp.
const (
	Issuer    = "quire"
	Audience  = "quire-api"
	AccessTTL = 15 * time.Minute
)

type claims struct {
	SessionID string `json:"sid"`
	jwt.RegisteredClaims
}

// Tokens issues and verifies access tokens.
type Tokens struct {
	secret []byte
	now    func() time.Time
	parser *jwt.Parser

	// verified remembers tokens that passed Verify, keyed by the whole
	// token (signature included), so a client's next request with the
	// same token skips the HMAC and the JSON of its claims (5 % of the
	// server's CPU per request under load). A hit is checked against the
	// clock exactly as the parser checks exp and iat.
	mu       sync.Mutex
	verified map[string]verifiedToken
}

type verifiedToken struct {
	id       Identity
	iat, exp time.Time
}

// tokenLeeway is the clock skew the parser allows on exp and iat.
const tokenLeeway = 30 * time.Second

// maxVerified bounds the verified-token cache; past it the cache starts
// over (a few megabytes at most).
const maxVerified = 10_000

// NewTokens returns Tokens signing with secret (≥ 32 bytes, checked by
// config). now is the clock; nil means time.Now.
func NewTokens(secret []byte, now func() time.Time) *Tokens {
	if now == nil {
		now = time.Now
	}
	return &Tokens{
		secret:   secret,
		now:      now,
		verified: map[string]verifiedToken{},
		// The algorithm is pinned: a token signed with anything else (none,
		// RS256 with our secret as a "public key") is refused.
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithIssuer(Issuer),
			jwt.WithAudience(Audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithTimeFunc(now),
			jwt.WithLeeway(tokenLeeway),
			// Trailing bits of the signature's last character must be
			// zero, so one token has one spelling.
			jwt.WithStrictDecoding(),
		),
	}
}

// Issue returns an access token for user in session, and when it expires.
func (t *Tokens) Issue(user, session uuid.UUID) (string, time.Time, error) {
	now := t.now()
	exp := now.Add(AccessTTL)
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims{
		SessionID: session.String(),
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   user.String(),
			Issuer:    Issuer,
			Audience:  jwt.ClaimStrings{Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
	})
	s, err := tok.SignedString(t.secret)
	if err != nil {
		return "", time.Time{}, err
	}
	return s, exp, nil
}

// Verify checks an access token and returns the identity it carries. Errors
// are UNAUTHENTICATED and never contain the token.
func (t *Tokens) Verify(token string) (Identity, error) {
	if !compact(token) {
		return Identity{}, qerr.New(qerr.Unauthenticated, "invalid access token")
	}
	t.mu.Lock()
	v, ok := t.verified[token]
	t.mu.Unlock()
	if ok {
		now := t.now()
		if now.Before(v.exp.Add(tokenLeeway)) && !now.Before(v.iat.Add(-tokenLeeway)) {
			return v.id, nil
		}
	}
	var c claims
	_, err := t.parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.secret, nil })
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return Identity{}, qerr.Wrap(err, qerr.Unauthenticated, "access token expired: refresh the session")
		}
		return Identity{}, qerr.Wrap(err, qerr.Unauthenticated, "invalid access token")
	}
	user, err1 := uuid.Parse(c.Subject)
	session, err2 := uuid.Parse(c.SessionID)
	if err1 != nil || err2 != nil {
		return Identity{}, qerr.New(qerr.Unauthenticated, "invalid access token")
	}
	id := Identity{Kind: KindUser, UserID: user, SessionID: session}
	if c.IssuedAt == nil || c.ExpiresAt == nil { // every token Issue signs has both
		return id, nil
	}
	t.mu.Lock()
	if len(t.verified) >= maxVerified {
		clear(t.verified)
	}
	t.verified[token] = verifiedToken{id: id, iat: c.IssuedAt.Time, exp: c.ExpiresAt.Time}
	t.mu.Unlock()
	return id, nil
}

// compact reports whether s uses only the characters of a compact JWT,
// base64url and the dots between its parts. Go's base64 decoding skips CR
// and LF even in strict mode, so without this a token with line breaks in
// its signature would pass as the token without them.
func compact(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// Authenticator turns an Authorization header into an Identity.
type Authenticator struct {
	Tokens *Tokens
	Keys   *apikey.Checker
}

// Authenticate reads "Bearer <token>". An API key (qk_…) is recognised by its
// prefix. Errors are UNAUTHENTICATED and safe to log: they never contain the
// credential.
func (a *Authenticator) Authenticate(ctx context.Context, authorization string) (Identity, error) {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(cred) == "" {
		return Identity{}, qerr.New(qerr.Unauthenticated, "malformed Authorization header: want \"Bearer <token>\"")
	}
	cred = strings.TrimSpace(cred)
	if strings.HasPrefix(cred, apikey.Prefix) {
		f, err := a.Keys.Check(ctx, cred)
		if err != nil {
			return Identity{}, err
		}
		return Identity{Kind: KindAPIKey, UserID: f.Creator, APIKeyID: f.KeyID, KeyOrgID: f.OrgID, KeyScopes: f.Scopes}, nil
	}
	return a.Tokens.Verify(cred)
}
