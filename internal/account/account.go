// Package account is who people are: users, sign-in by single-use link,
// sessions and the access tokens they yield.
package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/authn"
	mailer "github.com/quirehq/quire/internal/mail"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/store"
)

// Lifetimes of what sign-in hands out.
const (
	LoginLinkTTL      = 15 * time.Minute
	DefaultRefreshTTL = 30 * 24 * time.Hour
)

// Status is whether a user may sign in.
type Status string

// User statuses.
const (
	Active      Status = "ACTIVE"
	Deactivated Status = "DEACTIVATED"
)

// MarshalGQL writes the status as a GraphQL enum value.
func (s Status) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(s))) }

// UnmarshalGQL reads a GraphQL enum value.
func (s *Status) UnmarshalGQL(v any) error {
	str, _ := v.(string)
	if str != string(Active) && str != string(Deactivated) {
		return fmt.Errorf("%q is not a UserStatus", str)
	}
	*s = Status(str)
	return nil
}

// User is a person who can sign in.
type User struct {
	ID           uuid.UUID
	Email        string
	DisplayName  *string
	PlatformRole policy.PlatformRole
	Status       Status
	CreatedAt    time.Time
}

// AuthPayload is what a successful sign-in returns.
type AuthPayload struct {
	AccessToken  string
	RefreshToken string
	ExpiresAt    time.Time
	User         *User
}

// Service signs people in.
type Service struct {
	Store      *store.Store
	Tokens     *authn.Tokens
	Mailer     mailer.Mailer
	Logger     *slog.Logger
	PublicURL  string
	RefreshTTL time.Duration
	Now        func() time.Time
	// RetryDelays are the waits between mail delivery attempts; nil means
	// DefaultRetryDelays.
	RetryDelays []time.Duration

	sending sync.WaitGroup
}

// FromStore returns the user a row of the users table holds; a list that
// read its rows' users along (note.Page.Authors) hands them over with it.
func FromStore(u store.User) *User { return fromStore(u) }

func fromStore(u store.User) *User {
	role, _ := policy.ParsePlatformRole(u.PlatformRole) // the column's CHECK admits only known roles
	return &User{
		ID: u.ID, Email: u.Email, DisplayName: u.DisplayName,
		PlatformRole: role, Status: Status(u.Status), CreatedAt: u.CreatedAt,
	}
}

// NormalizeEmail validates an address and returns its canonical lowercase
// form; BAD_USER_INPUT otherwise. Besides what net/mail refuses, it refuses
// invalid UTF-8 (which lowering would quietly turn into U+FFFD) and control
// and format characters: bidi overrides and zero-width characters would let
// two accounts' addresses look the same.
func NormalizeEmail(email string) (string, error) {
	bad := qerr.Invalid("email", "not a valid email address")
	if !utf8.ValidString(email) {
		return "", bad
	}
	e := strings.ToLower(strings.TrimSpace(email))
	if strings.IndexFunc(e, invisible) >= 0 {
		return "", bad
	}
	addr, err := mail.ParseAddress(e)
	if err != nil || addr.Address != e || len(e) > 254 || addr.Name != "" {
		return "", bad
	}
	return e, nil
}

func invisible(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }

// newSecret returns 256 random bits in URL-safe base64, and their SHA-256,
// the only form in which a secret is stored.
func newSecret() (secret string, hash []byte) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	secret = base64.RawURLEncoding.EncodeToString(b[:])
	return secret, hashSecret(secret)
}

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Get returns the user with id, NOT_FOUND if there is none.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (*User, error) {
	u, err := s.Store.Global().GetUser(ctx, id)
	if err == store.ErrNoRows {
		return nil, qerr.New(qerr.NotFound, "user not found")
	}
	if err != nil {
		return nil, fmt.Errorf("get user %s: %w", id, err)
	}
	return fromStore(u), nil
}

// ByIDs returns the users with ids, in the order of ids; an unknown id gets
// nil. It serves the per-request user loader.
func (s *Service) ByIDs(ctx context.Context, ids []uuid.UUID) ([]*User, error) {
	rows, err := s.Store.Global().ListUsersByIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("load users: %w", err)
	}
	byID := make(map[uuid.UUID]*User, len(rows))
	for _, r := range rows {
		byID[r.ID] = fromStore(r)
	}
	out := make([]*User, len(ids))
	for i, id := range ids {
		out[i] = byID[id]
	}
	return out, nil
}

// UserPage is one page of the users list, newest first.
type UserPage struct {
	Users   []*User
	HasNext bool
}
