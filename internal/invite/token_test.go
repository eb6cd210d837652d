package invite

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/account"
	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/store"
)

// TestParseToken: a token reads back as its organization and the hash of
// its secret; anything else is the one UNAUTHENTICATED answer an unknown
// token gets.
func TestParseToken(t *testing.T) {
	org := uuid.Must(uuid.NewV7())
	secret, hash := account.NewSecret()
	gotOrg, gotHash, err := parseToken(formatToken(org, secret))
	if err != nil || gotOrg != org || !cmp.Equal(hash, gotHash) {
		t.Fatalf("parseToken(formatToken(%s, secret)) = %s, %x, %v", org, gotOrg, gotHash, err)
	}
	for _, tc := range []struct{ name, token string }{
		{"empty", ""},
		{"no separator", org.String() + secret},
		{"no secret", org.String() + "."},
		{"no organization", "." + secret},
		{"not a uuid", strings.Repeat("z", 36) + "." + secret},
		{"nil organization", uuid.Nil.String() + "." + secret},
		{"braced uuid", "{" + org.String() + "}." + secret},
		{"secret too long", org.String() + "." + strings.Repeat("A", 65)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := parseToken(tc.token)
			if e := qerr.As(err); e == nil || e.Code != qerr.Unauthenticated || e.Message != "invalid or expired invitation" {
				t.Errorf("parseToken(%q) = %v, want UNAUTHENTICATED", tc.token, err)
			}
		})
	}
}

// TestStatusAsOfNow: EXPIRED is computed, and only for PENDING rows.
func TestStatusAsOfNow(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		stored  Status
		expires time.Time
		want    Status
	}{
		{Pending, now.Add(time.Second), Pending},
		{Pending, now, Expired},
		{Accepted, now.Add(-time.Hour), Accepted},
		{Declined, now.Add(-time.Hour), Declined},
		{Revoked, now.Add(-time.Hour), Revoked},
	} {
		got := fromStore(store.Invitation{Status: string(tc.stored), ExpiresAt: tc.expires}, now).Status
		if got != tc.want {
			t.Errorf("%s expiring at %v read at %v: %s, want %s", tc.stored, tc.expires, now, got, tc.want)
		}
	}
}
