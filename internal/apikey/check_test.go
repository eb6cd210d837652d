package apikey_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/apikey"
	"github.com/quirehq/quire/internal/org"
	"github.com/quirehq/quire/internal/pgtest"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type keyFixture struct {
	db      *pgtest.DB
	checker *apikey.Checker
	orgID   uuid.UUID
	creator uuid.UUID
	keyID   uuid.UUID
	tok     apikey.Token
	key     string
	now     *atomic.Pointer[time.Time]
}

// newKeyFixture makes an organization whose owner has a key with
// notes:read, written as the key service writes it.
func newKeyFixture(t testing.TB) *keyFixture {
	t.Helper()
	db := pgtest.New(t)
	st, err := store.Open(t.Context(), db.AppURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	f := &keyFixture{db: db, creator: uuid.Must(uuid.NewV7()), keyID: uuid.Must(uuid.NewV7()), now: &atomic.Pointer[time.Time]{}}
	now := time.Now()
	f.now.Store(&now)
	f.checker = &apikey.Checker{Store: st, Now: func() time.Time { return *f.now.Load() }}
	// Cleanups run last first: the uses being recorded finish before the
	// pool closes under them.
	t.Cleanup(f.checker.Wait)
	err = st.InTx(t.Context(), func(q *store.Queries) error {
		_, err := q.CreateUser(t.Context(), store.CreateUserParams{ID: f.creator, Email: "scripter@example.com", PlatformRole: "USER"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	o, err := (&org.Service{Store: st}).Create(t.Context(), f.creator, org.CreateInput{Name: "Scripts"})
	if err != nil {
		t.Fatal(err)
	}
	f.orgID = o.ID
	f.tok, f.key = apikey.New(o.ID)
	f.exec(t, `INSERT INTO api_keys (id, org_id, name, prefix, secret_hash, permissions, created_by, expires_at)
		VALUES ($1, $2, 'script', $3, $4, '{notes:read}', $5, now() + interval '1 hour')`,
		f.keyID, f.orgID, f.tok.PublicID, f.tok.SecretHash(), f.creator)
	return f
}

func (f *keyFixture) exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	tx, err := f.db.App(t).Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(t.Context(), `SELECT set_config('app.org_id', $1, true)`, f.orgID.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), sql, args...); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	facts, err := f.checker.Check(t.Context(), f.key)
	want := apikey.Facts{KeyID: f.keyID, OrgID: f.orgID, Creator: f.creator, Scopes: policy.SetOf(policy.NotesRead)}
	if err != nil || facts != want {
		t.Fatalf("Check = %+v, %v; want %+v", facts, err, want)
	}

	// The same public id with another secret (and a valid checksum).
	_, other := apikey.New(f.orgID)
	forged := f.tok.PublicID + other[len(f.tok.PublicID):len(other)-apikey.CRCLen]
	forged += apikey.Checksum(forged)
	refused := map[string]string{
		"wrong secret":  forged,
		"unknown key":   other,
		"bad checksum":  f.key[:len(f.key)-1] + map[bool]string{true: "y", false: "x"}[strings.HasSuffix(f.key, "x")],
		"another org's": func() string { _, k := apikey.New(uuid.Must(uuid.NewV7())); return k }(),
	}
	for name, key := range refused {
		if _, err := f.checker.Check(t.Context(), key); qerr.CodeOf(err) != qerr.Unauthenticated || err.Error() != apikey.ErrRefused.Error() {
			t.Errorf("%s: %v, want the one UNAUTHENTICATED", name, err)
		}
	}
}

// TestCheckCutsOnTheNextRequest: revoking, expiring, or deactivating the
// creator ends the key at once.
func TestCheckCutsOnTheNextRequest(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		change func(f *keyFixture, t *testing.T)
	}{
		{"revoked", func(f *keyFixture, t *testing.T) { f.exec(t, `UPDATE api_keys SET revoked_at = now()`) }},
		{"expired", func(f *keyFixture, t *testing.T) { later := time.Now().Add(2 * time.Hour); f.now.Store(&later) }},
		{"creator deactivated", func(f *keyFixture, t *testing.T) {
			f.exec(t, `UPDATE users SET status = 'DEACTIVATED' WHERE id = $1`, f.creator)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newKeyFixture(t)
			if _, err := f.checker.Check(t.Context(), f.key); err != nil {
				t.Fatal(err)
			}
			tc.change(f, t)
			if _, err := f.checker.Check(t.Context(), f.key); qerr.CodeOf(err) != qerr.Unauthenticated {
				t.Errorf("after %s: %v, want UNAUTHENTICATED", tc.name, err)
			}
		})
	}
}

// TestLastUsedIsThrottled: uses within a minute write last_used_at once.
func TestLastUsedIsThrottled(t *testing.T) {
	t.Parallel()
	f := newKeyFixture(t)
	lastUsed := func() *time.Time {
		var at *time.Time
		if err := f.db.Super(t).QueryRow(t.Context(), `SELECT last_used_at FROM api_keys`).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at
	}
	for range 5 {
		if _, err := f.checker.Check(t.Context(), f.key); err != nil {
			t.Fatal(err)
		}
	}
	f.checker.Wait()
	first := lastUsed()
	if first == nil || !first.Equal(f.now.Load().Truncate(time.Microsecond)) {
		t.Fatalf("last_used_at = %v, want %v", first, f.now.Load())
	}
	soon := f.now.Load().Add(30 * time.Second)
	f.now.Store(&soon)
	f.checker.Check(t.Context(), f.key)
	f.checker.Wait()
	if got := lastUsed(); !got.Equal(*first) {
		t.Errorf("written again within the minute: %v", got)
	}
	later := f.now.Load().Add(time.Minute)
	f.now.Store(&later)
	f.checker.Check(t.Context(), f.key)
	f.checker.Wait()
	if got := lastUsed(); !got.After(*first) {
		t.Errorf("not written after a minute: %v", got)
	}
}

// BenchmarkCheck measures authenticating a request by API key: the parse
// and checksum, one tenant transaction for the look-up, and the
// constant-time compare.
func BenchmarkCheck(b *testing.B) {
	f := newKeyFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.checker.Check(b.Context(), f.key); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse measures what refuses a malformed key before any I/O.
func BenchmarkParse(b *testing.B) {
	_, key := apikey.New(uuid.Must(uuid.NewV7()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := apikey.Parse(key); err != nil {
			b.Fatal(err)
		}
	}
}
