package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quirehq/quire/internal/mail"
	"github.com/quirehq/quire/internal/policy"
)

const refreshMutation = `mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken refreshToken expiresAt user { email } } }`

type pair struct{ AccessToken, RefreshToken string }

func (e *env) refresh(token string) (pair, gqlResponse) {
	e.t.Helper()
	r := e.post(caller{}, refreshMutation, map[string]any{"r": token})
	var p pair
	if len(r.Errors) == 0 {
		r.decode(e.t, "refreshSession", &p)
	}
	return p, r
}

// TestRefreshRotates: each refresh token works once and yields a working
// pair; presenting a spent one revokes the session, so the newest refresh
// token and every access token of the session fail too.
func TestRefreshRotates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.signUp("rotor@example.com", policy.PlatformUser)

	first, r := e.refresh(u.refresh)
	r.ok(t)
	if first.RefreshToken == u.refresh || first.AccessToken == "" {
		t.Fatalf("refresh did not rotate: %+v", first)
	}
	e.post(caller{token: first.AccessToken}, `{ me { email } }`, nil).ok(t)
	second, r := e.refresh(first.RefreshToken)
	r.ok(t)

	// The original token again: reuse.
	if _, r := e.refresh(u.refresh); r.code(t) != "UNAUTHENTICATED" {
		t.Fatalf("reused refresh token accepted")
	}
	if _, r := e.refresh(second.RefreshToken); r.code(t) != "UNAUTHENTICATED" {
		t.Errorf("after reuse the newest refresh token still works")
	}
	for name, tok := range map[string]string{"first access": u.token, "rotated access": second.AccessToken} {
		if got := e.post(caller{token: tok}, `{ me { email } }`, nil).code(t); got != "UNAUTHENTICATED" {
			t.Errorf("%s token after reuse: code %s, want UNAUTHENTICATED", name, got)
		}
	}
	var reason string
	if err := e.db.Super(t).QueryRow(t.Context(), `SELECT action FROM audit_events WHERE action = 'session.refresh_reused' AND decision = 'DENIED'`).Scan(&reason); err != nil {
		t.Errorf("reuse was not audited: %v", err)
	}
}

// TestConcurrentRefreshOneWins: of several refreshes racing with one token,
// exactly one succeeds.
func TestConcurrentRefreshOneWins(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.signUp("racer2@example.com", policy.PlatformUser)
	const n = 6
	var ok atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, r := e.refresh(u.refresh); len(r.Errors) == 0 {
				ok.Add(1)
			} else if c, _ := r.Errors[0].Extensions["code"].(string); c != "UNAUTHENTICATED" {
				t.Errorf("unexpected code %s", c)
			}
		}()
	}
	close(start)
	wg.Wait()
	if ok.Load() != 1 {
		t.Errorf("%d of %d concurrent refreshes succeeded, want exactly 1", ok.Load(), n)
	}
}

// TestSignOut: signing out ends this session only; everywhere ends all.
func TestSignOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	laptop := e.signUp("twice@example.com", policy.PlatformUser)
	phone := e.signUp("twice@example.com", policy.PlatformUser) // a second session
	tablet := e.signUp("twice@example.com", policy.PlatformUser)

	e.post(laptop.bare(), `mutation { signOut }`, nil).ok(t)
	if got := e.post(laptop.bare(), `{ me { id } }`, nil).code(t); got != "UNAUTHENTICATED" {
		t.Errorf("signed-out access token: code %s", got)
	}
	if _, r := e.refresh(laptop.refresh); r.code(t) != "UNAUTHENTICATED" {
		t.Errorf("signed-out refresh token accepted")
	}
	e.post(phone.bare(), `{ me { id } }`, nil).ok(t)

	e.post(phone.bare(), `mutation { signOut(allSessions: true) }`, nil).ok(t)
	for name, u := range map[string]user{"phone": phone, "tablet": tablet} {
		if got := e.post(u.bare(), `{ me { id } }`, nil).code(t); got != "UNAUTHENTICATED" {
			t.Errorf("%s after signing out everywhere: code %s", name, got)
		}
	}
	if got := e.post(caller{}, `mutation { signOut }`, nil).code(t); got != "UNAUTHENTICATED" {
		t.Errorf("signOut without a token: code %s", got)
	}
}

// TestExpiry uses a clock the test moves: access tokens die after 15
// minutes, login links after 15, refresh tokens after the idle TTL (and
// each refresh moves that end).
func TestExpiry(t *testing.T) {
	t.Parallel()
	clock := newClock()
	e := newEnvWith(t, map[string]string{"QUIRE_REFRESH_TTL": "1h"}, deps{Now: clock.Now})
	u := e.signUp("timely@example.com", policy.PlatformUser)
	_, link, err := e.app.accounts.CreateWithLink(t.Context(), "timely@example.com", nil, policy.PlatformUser)
	if err != nil {
		t.Fatal(err)
	}

	clock.Advance(16 * time.Minute)
	if got := e.post(u.bare(), `{ me { id } }`, nil).code(t); got != "UNAUTHENTICATED" || e.post(u.bare(), `{ me { id } }`, nil).Errors[0].Message != "access token expired: refresh the session" {
		t.Errorf("a 16-minute-old access token: code %s", got)
	}
	if got := e.post(caller{}, `mutation($t: String!) { signInWithLink(token: $t) { accessToken } }`, map[string]any{"t": tokenOf(t, link)}).code(t); got != "UNAUTHENTICATED" {
		t.Errorf("a 16-minute-old login link: code %s", got)
	}
	p, r := e.refresh(u.refresh) // 16 minutes idle: fine, and moves the end to +1h from now
	r.ok(t)
	clock.Advance(50 * time.Minute)
	p2, r := e.refresh(p.RefreshToken)
	r.ok(t)
	clock.Advance(61 * time.Minute)
	if _, r := e.refresh(p2.RefreshToken); r.code(t) != "UNAUTHENTICATED" {
		t.Errorf("a refresh token idle past the TTL was accepted")
	}
}

// TestLoginLinksAreRateLimited: per address and per client, the same
// answer whether or not the address has an account.
func TestLoginLinksAreRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.signUp("popular@example.com", policy.PlatformUser)
	ask := func(email, ip string) gqlResponse {
		body, _ := json.Marshal(map[string]any{"query": `mutation($e: String!) { requestLoginLink(email: $e) }`, "variables": map[string]any{"e": email}})
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = ip + ":40000"
		return e.send(req, caller{})
	}
	for _, email := range []string{"popular@example.com", "ghost@example.com"} {
		for i := range 5 {
			ask(email, fmt.Sprintf("198.51.100.%d", i)).ok(t)
		}
		if got := ask(email, "198.51.100.99").code(t); got != "RATE_LIMITED" {
			t.Errorf("6th link for %s in the window: code %s, want RATE_LIMITED", email, got)
		}
	}
	for i := range 30 {
		ask(fmt.Sprintf("someone%d@example.com", i), "203.0.113.7").ok(t)
	}
	if got := ask("one-more@example.com", "203.0.113.7").code(t); got != "RATE_LIMITED" {
		t.Errorf("31st link from one client: code %s, want RATE_LIMITED", got)
	}
	e.app.accounts.Wait()
	if n := len(e.mails.all()); n != 5 {
		t.Errorf("%d mails sent, want 5 (the known address, up to its limit)", n)
	}
}

// flakyMailer fails its first failures sends, then delivers.
type flakyMailer struct {
	mailbox
	failures atomic.Int32
}

func (f *flakyMailer) Send(ctx context.Context, m mail.Message) error {
	if f.failures.Add(-1) >= 0 {
		return errors.New("421 try again later")
	}
	return f.mailbox.Send(ctx, m)
}

// TestMailIsRetried: a failing mail server delays a link, never loses the
// request and never sends it twice; the outbox records the attempts.
func TestMailIsRetried(t *testing.T) {
	t.Parallel()
	flaky := &flakyMailer{}
	flaky.failures.Store(2)
	e := newEnvWith(t, nil, deps{Mailer: flaky})
	e.signUp("patient@example.com", policy.PlatformUser)
	e.post(caller{}, `mutation { requestLoginLink(email: "patient@example.com") }`, nil).ok(t)
	e.app.accounts.Wait()
	if n := len(flaky.all()); n != 1 {
		t.Fatalf("%d mails delivered, want 1", n)
	}
	var attempts int
	var sent bool
	err := e.db.Super(t).QueryRow(t.Context(), `SELECT attempts, sent_at IS NOT NULL FROM mail_outbox`).Scan(&attempts, &sent)
	if err != nil || attempts != 3 || !sent {
		t.Errorf("outbox: attempts %d sent %v (%v), want 3 and sent", attempts, sent, err)
	}
	e.post(caller{}, `mutation($t: String!) { signInWithLink(token: $t) { accessToken } }`,
		map[string]any{"t": tokenOf(t, flaky.all()[0].Link)}).ok(t)
}
