package apikey

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
)

// These are the edges of the input rules, decided before any database
// work; cmd/server's tests drive every rule end to end.

var (
	testOrg   = policy.ID(uuid.Must(uuid.NewV7()))
	testOwner = policy.Principal{UserID: policy.ID{1}, OrgID: testOrg, Granted: policy.All, Modules: policy.AllModules}
)

// TestKeysNeverManageKeys: a key is refused whatever it holds, before its
// input is read; so is a platform override.
func TestKeysNeverManageKeys(t *testing.T) {
	key := testOwner
	key.APIKeyID = policy.ID{9}
	override := testOwner
	override.Override = true
	s := &Service{} // no store: nothing may reach it
	cases := []struct {
		name   string
		err    error
		reason string
	}{
		{"key creates", errOf(s.Create(t.Context(), key, CreateInput{Name: "k", Permissions: []string{"notes:read"}})), ReasonKeyCreate},
		{"key creates nonsense", errOf(s.Create(t.Context(), key, CreateInput{})), ReasonKeyCreate},
		{"key revokes", errOf(s.Revoke(t.Context(), key, uuid.New())), ReasonKeyRevoke},
		{"override creates", errOf(s.Create(t.Context(), override, CreateInput{Name: "k", Permissions: []string{"notes:read"}})), ReasonOverride},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := qerr.As(tc.err)
			if e == nil || e.Code != qerr.Forbidden || e.Reason != tc.reason {
				t.Errorf("error %v, want FORBIDDEN %q", tc.err, tc.reason)
			}
		})
	}
}

func errOf[T any](_ T, err error) error { return err }

func TestValidName(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"ci", "ci", true},
		{"  nightly export \t", "nightly export", true},
		{strings.Repeat("é", 100), strings.Repeat("é", 100), true}, // characters, not bytes
		{strings.Repeat("é", 101), "", false},
		{"", "", false},
		{" \n ", "", false},
	}
	for _, tc := range cases {
		got, err := validName(tc.in)
		if got != tc.want || (err == nil) != tc.ok || (err != nil && qerr.As(err).Field != "name") {
			t.Errorf("validName(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestScopes(t *testing.T) {
	editor := testOwner
	editor.Granted = policy.SetOf(policy.NotesRead, policy.NotesCreate, policy.MembersRead)
	cases := []struct {
		name  string
		p     policy.Principal
		codes []string
		want  []string
		code  qerr.Code
		named string // the permission or code the error names
	}{
		{"duplicates collapse", testOwner, []string{"notes:read", "notes:read", "audit:read"}, []string{"audit:read", "notes:read"}, "", ""},
		{"all one holds", editor, []string{"notes:create", "members:read"}, []string{"members:read", "notes:create"}, "", ""},
		{"nil", testOwner, nil, nil, qerr.BadUserInput, ""},
		{"empty", testOwner, []string{}, nil, qerr.BadUserInput, ""},
		{"unknown", testOwner, []string{"notes:read", "Notes:Read"}, nil, qerr.BadUserInput, `"Notes:Read"`},
		{"apikeys:manage", testOwner, []string{"apikeys:manage"}, nil, qerr.BadUserInput, "apikeys:manage"},
		{"escalation", editor, []string{"notes:read", "notes:delete"}, nil, qerr.Forbidden, "notes:delete"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			set, err := scopes(tc.p, tc.codes)
			if tc.code == "" {
				if err != nil || !cmp.Equal(set.Codes(), tc.want) {
					t.Errorf("scopes = %v, %v; want %v", set.Codes(), err, tc.want)
				}
				return
			}
			e := qerr.As(err)
			if e == nil || e.Code != tc.code || !strings.Contains(e.Message, tc.named) {
				t.Fatalf("error %v, want %s naming %q", err, tc.code, tc.named)
			}
			if tc.code == qerr.Forbidden && e.Permission != tc.named {
				t.Errorf("permission %q, want %q", e.Permission, tc.named)
			}
		})
	}
}

func TestValidExpiry(t *testing.T) {
	now := time.Date(2030, 2, 28, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { x := now.Add(d); return &x }
	year := now.AddDate(1, 0, 0)
	cases := []struct {
		name string
		at   *time.Time
		ok   bool
	}{
		{"none", nil, true},
		{"in a second", at(time.Second), true},
		{"exactly a year ahead", &year, true},
		{"now", at(0), false},
		{"past", at(-time.Hour), false},
		{"a year and a nanosecond", at(year.Sub(now) + 1), false},
	}
	for _, tc := range cases {
		err := validExpiry(tc.at, now)
		if (err == nil) != tc.ok || (err != nil && qerr.As(err).Field != "expiresAt") {
			t.Errorf("%s: validExpiry = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

// TestCreatedNeverLogsItsSecret: however a new key reaches a log line, its
// secret does not.
func TestCreatedNeverLogsItsSecret(t *testing.T) {
	tok, secret := New(uuid.UUID(testOrg))
	c := &Created{APIKey: &Key{ID: uuid.New(), Prefix: tok.PublicID}, Secret: secret}
	var b strings.Builder
	log := slog.New(slog.NewJSONHandler(&b, nil))
	log.Info("created", "key", c, "value", *c, "empty", Created{Secret: secret})
	if out := b.String(); strings.Contains(out, secret[len(tok.PublicID)+1:]) || !strings.Contains(out, tok.PublicID) {
		t.Errorf("log line shows the secret, or not the prefix: %s", out)
	}
}
