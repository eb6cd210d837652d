package authn_test

import (
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/authn"
	"github.com/quirehq/quire/internal/qerr"
)

// TestVerifyRemembersOnlyWhatIsStillValid: Verify remembers a token it
// accepted, and a remembered token still expires on the clock, cannot be
// used before its iat (less the leeway), and lends nothing to a token that
// differs from it by a character.
func TestVerifyRemembersOnlyWhatIsStillValid(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	set := func(t time.Time) { mu.Lock(); defer mu.Unlock(); now = t }
	issued := now
	tokens := authn.NewTokens([]byte("test-secret-0123456789-abcdefghijklmn"), clock)
	user, session := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	tok, exp, err := tokens.Issue(user, session)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // the second is answered from memory
		id, err := tokens.Verify(tok)
		if err != nil || id.UserID != user || id.SessionID != session || id.Kind != authn.KindUser {
			t.Fatalf("verify %d: %+v, %v", i, id, err)
		}
	}
	forged := tok[:len(tok)-2] + map[bool]string{true: "AA", false: "BA"}[tok[len(tok)-2:] != "AA"]
	if _, err := tokens.Verify(forged); !qerr.Is(err, qerr.Unauthenticated) {
		t.Errorf("a token one character off: %v, want UNAUTHENTICATED", err)
	}
	set(issued.Add(-31 * time.Second))
	if _, err := tokens.Verify(tok); !qerr.Is(err, qerr.Unauthenticated) {
		t.Errorf("before its iat less the leeway: %v, want UNAUTHENTICATED", err)
	}
	set(exp.Add(29 * time.Second))
	if _, err := tokens.Verify(tok); err != nil {
		t.Errorf("within the leeway after exp: %v, want accepted", err)
	}
	set(exp.Add(31 * time.Second))
	_, err = tokens.Verify(tok)
	if e := qerr.As(err); e == nil || e.Code != qerr.Unauthenticated || e.Message != "access token expired: refresh the session" {
		t.Errorf("after exp and the leeway: %v, want the expiry refusal", err)
	}
}
