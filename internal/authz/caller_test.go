package authz_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/authn"
	"github.com/quirehq/quire/internal/authz"
	"github.com/quirehq/quire/internal/pgtest"
	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// fixture makes a user with a session and returns the service and the
// identity an access token for that session carries.
func fixture(t testing.TB) (*authz.Service, *pgtest.DB, authn.Identity) {
	t.Helper()
	db := pgtest.New(t)
	st, err := store.Open(t.Context(), db.AppURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	user, session := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	err = st.InTx(t.Context(), func(q *store.Queries) error {
		if _, err := q.CreateUser(t.Context(), store.CreateUserParams{ID: user, Email: "caller@example.com", PlatformRole: "ADMIN"}); err != nil {
			return err
		}
		return q.CreateSession(t.Context(), store.CreateSessionParams{ID: session, UserID: user, ExpiresAt: time.Now().Add(time.Hour)})
	})
	if err != nil {
		t.Fatal(err)
	}
	return &authz.Service{Store: st, Now: time.Now}, db, authn.Identity{Kind: authn.KindUser, UserID: user, SessionID: session}
}

// TestCallerFailsClosed: the per-request check refuses every state in
// which the token's session or user no longer holds.
func TestCallerFailsClosed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		change string
	}{
		{"revoked session", `UPDATE sessions SET revoked_at = now()`},
		{"expired session", `UPDATE sessions SET expires_at = now() - interval '1 second'`},
		{"deactivated user", `UPDATE users SET status = 'DEACTIVATED'`},
		{"deleted session", `DELETE FROM refresh_tokens; DELETE FROM sessions`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, db, id := fixture(t)
			c, err := s.Caller(t.Context(), id)
			if err != nil || c.UserID != id.UserID || c.PlatformRole.String() != "ADMIN" {
				t.Fatalf("before: %+v, %v", c, err)
			}
			if _, err := db.Super(t).Exec(t.Context(), tc.change); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Caller(t.Context(), id); qerr.CodeOf(err) != qerr.Unauthenticated {
				t.Errorf("after %s: %v, want UNAUTHENTICATED", tc.name, err)
			}
		})
	}
}

// BenchmarkCaller measures the per-request identity check: one query for
// the user and the session the token names.
func BenchmarkCaller(b *testing.B) {
	s, _, id := fixture(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Caller(b.Context(), id); err != nil {
			b.Fatal(err)
		}
	}
}
