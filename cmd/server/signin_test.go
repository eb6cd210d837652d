package main

import (
	"crypto/sha256"
	"strings"
	"sync"
	"testing"

	"github.com/quirehq/quire/internal/policy"
)

func tokenOf(t testing.TB, link string) string {
	t.Helper()
	token, ok := strings.CutPrefix(link, "http://quire.test/login?token=")
	if !ok || len(token) < 43 { // 256 bits in base64url
		t.Fatalf("link %q is not a login link with a 256-bit token", link)
	}
	return token
}

// TestRequestLoginLink: an active user gets a single-use link by mail; an
// unknown address gets the same answer and no mail.
func TestRequestLoginLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.signUp("known@example.com", policy.PlatformUser)
	for _, email := range []string{"Known@Example.com", "nobody@example.com"} {
		r := e.post(caller{}, `mutation($e: String!) { requestLoginLink(email: $e) }`, map[string]any{"e": email}).ok(t)
		if got := string(r.Data["requestLoginLink"]); got != "true" {
			t.Errorf("requestLoginLink(%s) = %s, want true", email, got)
		}
	}
	e.app.accounts.Wait() // deliveries leave after the request
	mails := e.mails.all()
	if len(mails) != 1 || mails[0].To != "known@example.com" || mails[0].Kind != "login" {
		t.Fatalf("mails = %v, want one login mail to known@example.com", mails)
	}
	token := tokenOf(t, mails[0].Link)
	if !strings.Contains(mails[0].Text, mails[0].Link) {
		t.Errorf("mail text does not carry the link")
	}
	sign := `mutation($t: String!) { signInWithLink(token: $t) { accessToken user { email } } }`
	r := e.post(caller{}, sign, map[string]any{"t": token}).ok(t)
	var p struct {
		AccessToken string
		User        struct{ Email string }
	}
	r.decode(t, "signInWithLink", &p)
	if p.User.Email != "known@example.com" || p.AccessToken == "" {
		t.Errorf("signInWithLink = %+v", p)
	}
	if got := e.post(caller{}, sign, map[string]any{"t": token}).code(t); got != "UNAUTHENTICATED" {
		t.Errorf("second use of a link: code %s, want UNAUTHENTICATED", got)
	}
	if got := e.post(caller{}, `mutation { requestLoginLink(email: "not an address") }`, nil).code(t); got != "BAD_USER_INPUT" {
		t.Errorf("malformed email: code %s, want BAD_USER_INPUT", got)
	}
}

// TestLoginLinkSingleUseUnderRace: of many concurrent uses of one link,
// exactly one signs in.
func TestLoginLinkSingleUseUnderRace(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, link, err := e.app.accounts.CreateWithLink(t.Context(), "racer@example.com", nil, policy.PlatformUser)
	if err != nil {
		t.Fatal(err)
	}
	token := tokenOf(t, link)
	const n = 8
	var wg sync.WaitGroup
	codes := make([]string, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := e.post(caller{}, `mutation($t: String!) { signInWithLink(token: $t) { accessToken } }`, map[string]any{"t": token})
			if len(r.Errors) == 0 {
				codes[i] = "OK"
			} else {
				codes[i], _ = r.Errors[0].Extensions["code"].(string)
			}
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, c := range codes {
		switch c {
		case "OK":
			ok++
		case "UNAUTHENTICATED":
		default:
			t.Errorf("unexpected outcome %q", c)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent uses signed in, want exactly 1 (%v)", ok, n, codes)
	}
}

// TestSecretsOnlyAsHashesAndNeverLogged issues every kind of secret this
// slice has, then looks for each in the log and in every table.
func TestSecretsOnlyAsHashesAndNeverLogged(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.signUp("secretive@example.com", policy.PlatformUser)
	e.createOrg(u, "Vault")
	e.post(caller{}, `mutation { requestLoginLink(email: "secretive@example.com") }`, nil).ok(t)
	e.app.accounts.Wait()
	linkToken := tokenOf(t, e.mails.all()[0].Link)
	// A bad credential goes through the authn failure path, which logs.
	e.post(caller{token: u.token + "x"}, `{ me { id } }`, nil)
	rotated, r := e.refresh(u.refresh)
	r.ok(t)
	e.refresh(u.refresh) // reuse: logged as a warning, with ids only

	secrets := map[string]string{
		"access token": u.token, "refresh token": u.refresh, "login link token": linkToken,
		"rotated access token": rotated.AccessToken, "rotated refresh token": rotated.RefreshToken,
	}
	log := e.log.String()
	if !strings.Contains(log, `"msg":"request"`) || !strings.Contains(log, "authentication failed") || !strings.Contains(log, "refresh token reuse") {
		t.Fatalf("the log is missing the lines this test relies on:\n%s", log)
	}
	super := e.db.Super(t)
	for name, s := range secrets {
		if strings.Contains(log, s) {
			t.Errorf("the log contains the %s", name)
		}
		var n int
		// Every text-like column of every table, as text: the secret must
		// be nowhere in the database.
		err := super.QueryRow(t.Context(), `
			SELECT count(*) FROM (
			  SELECT row_to_json(t)::text AS j FROM (SELECT * FROM users) t UNION ALL
			  SELECT row_to_json(t)::text FROM (SELECT * FROM sessions) t UNION ALL
			  SELECT row_to_json(t)::text FROM (SELECT * FROM refresh_tokens) t UNION ALL
			  SELECT row_to_json(t)::text FROM (SELECT * FROM login_tokens) t UNION ALL
			  SELECT row_to_json(t)::text FROM (SELECT * FROM mail_outbox) t UNION ALL
			  SELECT row_to_json(t)::text FROM (SELECT * FROM audit_events) t
			) rows WHERE j LIKE '%' || $1 || '%'`, s).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("the %s is stored in plain text in %d rows", name, n)
		}
	}
	for name, q := range map[string]string{
		"login link token":      `SELECT count(*) FROM login_tokens WHERE token_hash = $1`,
		"refresh token":         `SELECT count(*) FROM refresh_tokens WHERE token_hash = $1`,
		"rotated refresh token": `SELECT count(*) FROM refresh_tokens WHERE token_hash = $1`,
	} {
		h := sha256.Sum256([]byte(secrets[name]))
		var n int
		if err := super.QueryRow(t.Context(), q, h[:]).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("the %s's SHA-256 is stored %d times, want 1", name, n)
		}
	}
}
