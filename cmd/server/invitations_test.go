package main

import (
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/mail"
	"github.com/quirehq/quire/internal/policy"
)

// The built-in roles' ids, as the migration creates them.
const (
	ownerRole  = "00000000-0000-7000-8000-000000000001"
	adminRole  = "00000000-0000-7000-8000-000000000002"
	editorRole = "00000000-0000-7000-8000-000000000003"
	viewerRole = "00000000-0000-7000-8000-000000000004"
)

const (
	invitationFields = `id email status expiresAt roles { id key } invitedBy { email } organization { id name }`
	inviteOp         = `mutation($e: String!, $r: [ID!]!) { inviteMember(input: {email: $e, roleIds: $r}) { ` + invitationFields + ` } }`
	revokeOp         = `mutation($id: ID!) { revokeInvitation(id: $id) { ` + invitationFields + ` } }`
	resendOp         = `mutation($id: ID!) { resendInvitation(id: $id) { ` + invitationFields + ` } }`
	acceptOp         = `mutation($t: String!) { acceptInvitation(token: $t) { accessToken refreshToken user { id email displayName } } }`
	declineOp        = `mutation($t: String!) { declineInvitation(token: $t) }`
	invitationsOp    = `query($s: InvitationStatus) { invitations(status: $s) { id email status } }`
	myInvitationsOp  = `{ myInvitations { ` + invitationFields + ` } }`
)

type invitationOut struct {
	ID           string
	Email        string
	Status       string
	ExpiresAt    time.Time
	Roles        []struct{ ID, Key string }
	InvitedBy    *struct{ Email string }
	Organization struct{ ID, Name string }
}

func (i invitationOut) roleKeys() []string {
	out := []string{}
	for _, r := range i.Roles {
		out = append(out, r.Key)
	}
	return out
}

type acceptOut struct {
	AccessToken  string
	RefreshToken string
	User         struct {
		ID          string
		Email       string
		DisplayName *string
	}
}

// invite invites email with roleIDs as c and returns the invitation.
func (e *env) invite(c caller, email string, roleIDs ...string) invitationOut {
	e.t.Helper()
	var inv invitationOut
	e.post(c, inviteOp, map[string]any{"e": email, "r": roleIDs}).ok(e.t).decode(e.t, "inviteMember", &inv)
	return inv
}

// invitationToken waits for the mail under way and returns the token of the
// newest invitation mailed to addr.
func (e *env) invitationToken(addr string) string {
	e.t.Helper()
	var last *mail.Message
	for _, m := range e.deliveredTo(addr) {
		if m.Kind == mail.KindInvitation {
			last = &m
		}
	}
	if last == nil {
		e.t.Fatalf("no invitation mailed to %s", addr)
	}
	token, ok := strings.CutPrefix(last.Link, "http://quire.test/invite?token=")
	org, secret, dot := strings.Cut(token, ".")
	if !ok || !dot || uuid.Validate(org) != nil || len(secret) < 43 { // 256 bits in base64url
		e.t.Fatalf("link %q is not an invitation link with an organization and a 256-bit secret", last.Link)
	}
	return token
}

func (e *env) accept(c caller, token string) gqlResponse {
	e.t.Helper()
	return e.post(c, acceptOp, map[string]any{"t": token})
}

// invitationStatus reads an invitation's stored status, past the API.
func (e *env) invitationStatus(id string) string {
	e.t.Helper()
	var st string
	if err := e.db.Super(e.t).QueryRow(e.t.Context(), `SELECT status FROM invitations WHERE id = $1`, id).Scan(&st); err != nil {
		e.t.Fatal(err)
	}
	return st
}

// members counts the active members of org with email.
func (e *env) membersWithEmail(org, email string) int {
	e.t.Helper()
	var n int
	err := e.db.Super(e.t).QueryRow(e.t.Context(), `
		SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.org_id = $1 AND u.email = $2 AND m.removed_at IS NULL`, org, email).Scan(&n)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// wantError fails unless r is the one error, with code and message msg.
func wantError(t *testing.T, r gqlResponse, code, msg string) {
	t.Helper()
	if got := r.code(t); got != code || r.Errors[0].Message != msg {
		t.Errorf("got %s %q, want %s %q", got, r.Errors[0].Message, code, msg)
	}
}

// TestInvitationSignsUpANewcomer: an invitation mails a link; accepting it
// with nobody signed in creates the user, signs them in and makes them a
// member with exactly the invited roles; a second accept is CONFLICT.
func TestInvitationSignsUpANewcomer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	org := e.createOrg(owner, "Acme Corp")

	inv := e.invite(owner.in(org), " New@Example.com ", editorRole, viewerRole)
	if inv.Email != "new@example.com" || inv.Status != "PENDING" || inv.InvitedBy == nil || inv.InvitedBy.Email != "owner@example.com" ||
		inv.Organization.ID != org || inv.Organization.Name != "Acme Corp" {
		t.Errorf("inviteMember = %+v", inv)
	}
	if diff := cmp.Diff([]string{"editor", "viewer"}, inv.roleKeys()); diff != "" {
		t.Errorf("roles, in the order given (-want +got):\n%s", diff)
	}
	if d := time.Until(inv.ExpiresAt) - 7*24*time.Hour; d > time.Minute || d < -time.Minute {
		t.Errorf("expiresAt = %v, want 7 days from now", inv.ExpiresAt)
	}
	mails := e.deliveredTo("new@example.com")
	if len(mails) != 1 || mails[0].Kind != "invitation" || !strings.Contains(mails[0].Subject, "Acme Corp") ||
		!strings.Contains(mails[0].Text, mails[0].Link) {
		t.Fatalf("mails = %v, want one invitation naming the organization and carrying the link", mails)
	}
	token := e.invitationToken("new@example.com")

	var p acceptOut
	e.accept(caller{}, token).ok(t).decode(t, "acceptInvitation", &p)
	if p.User.Email != "new@example.com" || p.User.DisplayName != nil || p.AccessToken == "" || p.RefreshToken == "" {
		t.Errorf("acceptInvitation = %+v", p)
	}
	var mine []struct {
		Organization struct{ ID string }
		Roles        []struct{ Key string }
		Permissions  []string
	}
	e.post(caller{token: p.AccessToken}, `{ myOrganizations { organization { id } roles { key } permissions } }`, nil).
		ok(t).decode(t, "myOrganizations", &mine)
	want := policy.BuiltInRoles()[2].Permissions | policy.BuiltInRoles()[3].Permissions // editor, viewer
	if len(mine) != 1 || mine[0].Organization.ID != org || len(mine[0].Roles) != 2 {
		t.Fatalf("myOrganizations = %+v", mine)
	}
	if diff := cmp.Diff(want.Codes(), mine[0].Permissions); diff != "" {
		t.Errorf("permissions are the invited roles' (-want +got):\n%s", diff)
	}
	if _, r := e.refresh(p.RefreshToken); len(r.Errors) > 0 {
		t.Errorf("the refresh token of the new session does not work: %+v", r.Errors)
	}

	wantError(t, e.accept(caller{}, token), "CONFLICT", "invitation already accepted")
	wantError(t, e.post(caller{}, declineOp, map[string]any{"t": token}), "CONFLICT", "invitation already accepted")
	var list []invitationOut
	e.post(owner.in(org), invitationsOp, nil).ok(t).decode(t, "invitations", &list)
	if len(list) != 1 || list[0].Status != "ACCEPTED" {
		t.Errorf("invitations = %+v, want the one, ACCEPTED", list)
	}
	var actions []string
	rows, err := e.db.Super(t).Query(t.Context(), `SELECT action FROM audit_events WHERE org_id = $1 AND target_id = $2 ORDER BY created_at, id`, org, inv.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var a string
		_ = rows.Scan(&a)
		actions = append(actions, a)
	}
	if diff := cmp.Diff([]string{"invitation.create", "invitation.accept"}, actions); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
}

// TestInvitationAddressee: a signed-in user with the invitation's email
// accepts it as themselves; one with another email is FORBIDDEN and
// changes nothing.
func TestInvitationAddressee(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	org := e.createOrg(owner, "Acme")
	bob := e.signUp("bob@example.com", policy.PlatformUser)
	carol := e.signUp("carol@example.com", policy.PlatformUser)
	inv := e.invite(owner.in(org), "bob@example.com", viewerRole)
	token := e.invitationToken("bob@example.com")

	for _, op := range []string{acceptOp, declineOp} {
		r := e.post(carol.bare(), op, map[string]any{"t": token})
		wantError(t, r, "FORBIDDEN", "forbidden: this invitation is addressed to another email")
	}
	if st := e.invitationStatus(inv.ID); st != "PENDING" || e.membersWithEmail(org, "carol@example.com") != 0 || e.membersWithEmail(org, "bob@example.com") != 0 {
		t.Fatalf("a refused accept changed something: status %s", st)
	}

	var p acceptOut
	e.accept(bob.bare(), token).ok(t).decode(t, "acceptInvitation", &p)
	if p.User.ID != bob.id.String() {
		t.Errorf("accepted as %s, want bob %s", p.User.ID, bob.id)
	}
	var perms []string
	e.post(bob.in(org), `{ myPermissions }`, nil).ok(t).decode(t, "myPermissions", &perms)
	if diff := cmp.Diff(policy.BuiltInRoles()[3].Permissions.Codes(), perms); diff != "" {
		t.Errorf("bob's old token sees the new membership (-want +got):\n%s", diff)
	}
}

// TestConcurrentAcceptOneWins: of two accepts of one invitation at once,
// exactly one succeeds; the user and the membership exist once.
func TestConcurrentAcceptOneWins(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	org := e.createOrg(owner, "Acme")
	e.invite(owner.in(org), "twice@example.com", editorRole)
	token := e.invitationToken("twice@example.com")

	got := race(func(int) string {
		r := e.accept(caller{}, token)
		if len(r.Errors) == 0 {
			return "OK"
		}
		return r.Errors[0].Message
	})
	slices.Sort(got)
	if diff := cmp.Diff([]string{"OK", "invitation already accepted"}, got); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	var users int
	if err := e.db.Super(t).QueryRow(t.Context(), `SELECT count(*) FROM users WHERE email = 'twice@example.com'`).Scan(&users); err != nil {
		t.Fatal(err)
	}
	if users != 1 || e.membersWithEmail(org, "twice@example.com") != 1 {
		t.Errorf("%d users, %d memberships; want 1 and 1", users, e.membersWithEmail(org, "twice@example.com"))
	}
}

// TestInvitationStates: declined, revoked and expired invitations each
// refuse an answer with their own CONFLICT, and invitations(status) sorts
// them out.
func TestInvitationStates(t *testing.T) {
	t.Parallel()
	clock := newClock()
	e := newEnvWith(t, nil, deps{Now: clock.Now})
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	org := e.createOrg(owner, "Acme")
	declined := e.invite(owner.in(org), "declined@example.com", viewerRole)
	revoked := e.invite(owner.in(org), "revoked@example.com", viewerRole)
	expired := e.invite(owner.in(org), "expired@example.com", viewerRole)
	tokens := map[string]string{}
	for _, a := range []string{"declined", "revoked", "expired"} {
		tokens[a] = e.invitationToken(a + "@example.com")
	}

	if r := e.post(caller{}, declineOp, map[string]any{"t": tokens["declined"]}).ok(t); string(r.Data["declineInvitation"]) != "true" {
		t.Errorf("declineInvitation = %s", r.Data["declineInvitation"])
	}
	wantError(t, e.accept(caller{}, tokens["declined"]), "CONFLICT", "invitation was declined")
	var rv invitationOut
	e.post(owner.in(org), revokeOp, map[string]any{"id": revoked.ID}).ok(t).decode(t, "revokeInvitation", &rv)
	if rv.Status != "REVOKED" {
		t.Errorf("revokeInvitation = %+v", rv)
	}
	wantError(t, e.accept(caller{}, tokens["revoked"]), "CONFLICT", "invitation was revoked")
	wantError(t, e.post(owner.in(org), revokeOp, map[string]any{"id": revoked.ID}), "CONFLICT", "invitation was revoked")
	wantError(t, e.post(owner.in(org), resendOp, map[string]any{"id": declined.ID}), "CONFLICT", "invitation was declined")

	clock.Advance(8 * 24 * time.Hour)
	wantError(t, e.accept(caller{}, tokens["expired"]), "CONFLICT", "invitation expired: ask for a new one")
	wantError(t, e.post(caller{}, declineOp, map[string]any{"t": tokens["expired"]}), "CONFLICT", "invitation expired: ask for a new one")
	if e.membersWithEmail(org, "expired@example.com") != 0 || e.invitationStatus(expired.ID) != "PENDING" {
		t.Errorf("a refused accept changed something")
	}

	fresh, r := e.refresh(owner.refresh) // the access token died with the 8 days
	r.ok(t)
	o := caller{token: fresh.AccessToken, org: org}
	pending := e.invite(o, "pending@example.com", viewerRole)
	for _, tc := range []struct {
		status any
		want   []string
	}{
		{nil, []string{pending.ID, expired.ID, revoked.ID, declined.ID}},
		{"PENDING", []string{pending.ID}},
		{"EXPIRED", []string{expired.ID}},
		{"DECLINED", []string{declined.ID}},
		{"REVOKED", []string{revoked.ID}},
		{"ACCEPTED", []string{}},
	} {
		var list []invitationOut
		e.post(o, invitationsOp, map[string]any{"s": tc.status}).ok(t).decode(t, "invitations", &list)
		got := []string{}
		for _, i := range list {
			got = append(got, i.ID)
			if tc.status != nil && i.Status != tc.status {
				t.Errorf("invitations(%v) returned one %s", tc.status, i.Status)
			}
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("invitations(%v), newest first (-want +got):\n%s", tc.status, diff)
		}
	}
}

// TestResendKillsTheOldLink: resending mails a new link valid 7 days from
// now; the old one stops working at once.
func TestResendKillsTheOldLink(t *testing.T) {
	t.Parallel()
	clock := newClock()
	e := newEnvWith(t, nil, deps{Now: clock.Now})
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	org := e.createOrg(owner, "Acme")
	inv := e.invite(owner.in(org), "late@example.com", editorRole)
	old := e.invitationToken("late@example.com")

	clock.Advance(6 * 24 * time.Hour)
	fresh, r := e.refresh(owner.refresh)
	r.ok(t)
	var re invitationOut
	e.post(caller{token: fresh.AccessToken, org: org}, resendOp, map[string]any{"id": inv.ID}).ok(t).decode(t, "resendInvitation", &re)
	if re.ID != inv.ID || re.Status != "PENDING" || !re.ExpiresAt.After(inv.ExpiresAt) {
		t.Errorf("resendInvitation = %+v, want the same invitation with a later expiry than %v", re, inv.ExpiresAt)
	}
	token := e.invitationToken("late@example.com")
	if token == old || len(e.deliveredTo("late@example.com")) != 2 {
		t.Fatalf("resending did not mail a new link")
	}
	wantError(t, e.accept(caller{}, old), "UNAUTHENTICATED", "invalid or expired invitation")

	clock.Advance(6 * 24 * time.Hour) // 12 days after the first mail, 6 after the second
	e.accept(caller{}, token).ok(t)
	var actions int
	if err := e.db.Super(t).QueryRow(t.Context(), `SELECT count(*) FROM audit_events WHERE action = 'invitation.resend' AND target_id = $1`, inv.ID).Scan(&actions); err != nil {
		t.Fatal(err)
	}
	if actions != 1 {
		t.Errorf("%d invitation.resend audit events, want 1", actions)
	}
}

// TestInvitationRefusals: every way to misuse an invitation answers its own
// code and changes nothing.
func TestInvitationRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformSuperadmin)
	org := e.createOrg(owner, "Acme")
	other := e.signUp("other@example.com", policy.PlatformUser)
	otherOrg := e.createOrg(other, "Elsewhere")
	admin := e.signUp("admin@example.com", policy.PlatformUser)
	e.addMember(org, admin, "admin")
	editor := e.signUp("editor@example.com", policy.PlatformUser)
	e.addMember(org, editor, "editor")
	foreignRole := uuid.Must(uuid.NewV7()).String()
	if _, err := e.db.Super(t).Exec(t.Context(), `INSERT INTO roles (id, org_id, key, name) VALUES ($1, $2, 'elsewhere', 'Elsewhere')`, foreignRole, otherOrg); err != nil {
		t.Fatal(err)
	}
	e.invite(owner.in(org), "pending@example.com", viewerRole)
	foreign := e.invite(other.in(otherOrg), "someone@example.com", viewerRole)
	foreignToken := e.invitationToken("someone@example.com")
	gone := e.signUp("gone@example.com", policy.PlatformUser)
	e.invite(owner.in(org), "gone@example.com", viewerRole)
	goneToken := e.invitationToken("gone@example.com")
	e.post(owner.bare(), deactivateOp, map[string]any{"id": gone.id}).ok(t)
	before := len(e.mails.all())

	invite := func(email string, roles ...string) map[string]any { return map[string]any{"e": email, "r": roles} }
	e.checkDenials(t, []denial{
		{name: "inviting a member", c: owner.in(org), op: inviteOp, vars: invite("admin@example.com", viewerRole), code: "CONFLICT"},
		{name: "inviting twice", c: owner.in(org), op: inviteOp, vars: invite("pending@example.com", editorRole), code: "CONFLICT"},
		{name: "no role", c: owner.in(org), op: inviteOp, vars: invite("x@example.com"), code: "BAD_USER_INPUT"},
		{name: "bad email", c: owner.in(org), op: inviteOp, vars: invite("not an address", viewerRole), code: "BAD_USER_INPUT"},
		{name: "another org's role", c: owner.in(org), op: inviteOp, vars: invite("x@example.com", foreignRole), code: "NOT_FOUND"},
		{name: "unknown role", c: owner.in(org), op: inviteOp, vars: invite("x@example.com", uuid.NewString()), code: "NOT_FOUND"},
		{name: "without members:invite", c: editor.in(org), op: inviteOp, vars: invite("x@example.com", viewerRole), code: "FORBIDDEN"},
		{name: "revoke another org's", c: owner.in(org), op: revokeOp, vars: map[string]any{"id": foreign.ID}, code: "NOT_FOUND"},
		{name: "resend another org's", c: owner.in(org), op: resendOp, vars: map[string]any{"id": foreign.ID}, code: "NOT_FOUND"},
		{name: "malformed token", c: caller{}, op: acceptOp, vars: map[string]any{"t": "nonsense"}, code: "UNAUTHENTICATED"},
		{name: "unknown token", c: caller{}, op: acceptOp, vars: map[string]any{"t": org + "." + strings.Repeat("A", 43)}, code: "UNAUTHENTICATED"},
		{name: "a token under another org", c: caller{}, op: acceptOp, vars: map[string]any{"t": org + foreignToken[36:]}, code: "UNAUTHENTICATED"},
		{name: "deactivated invitee", c: caller{}, op: acceptOp, vars: map[string]any{"t": goneToken}, code: "FORBIDDEN"},
	})

	// An admin holds members:invite but not org:delete: inviting as owner
	// would hand out what they do not hold.
	r := e.post(admin.in(org), inviteOp, map[string]any{"e": "x@example.com", "r": []string{ownerRole}})
	if r.code(t) != "FORBIDDEN" || r.Errors[0].Extensions["permission"] != "org:delete" {
		t.Errorf("escalation by roleIds: %+v, want FORBIDDEN naming org:delete", r.Errors)
	}
	e.invite(admin.in(org), "x@example.com", adminRole) // what they hold, they may grant

	e.app.accounts.Wait()
	if got := len(e.mails.all()); got != before+1 {
		t.Errorf("%d mails sent by refused calls", got-before-1)
	}
	var n int
	if err := e.db.Super(t).QueryRow(t.Context(), `SELECT count(*) FROM invitations WHERE org_id = $1`, org).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("%d invitations in the organization, want 3 (pending, gone, x)", n)
	}
	if e.invitationStatus(foreign.ID) != "PENDING" || e.membersWithEmail(org, "gone@example.com") != 0 {
		t.Errorf("a refused call changed an invitation or a membership")
	}
}

// TestMyInvitations: a user sees the pending invitations to their email
// from every organization, with each one's organization and roles, and
// nothing else.
func TestMyInvitations(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a := e.signUp("a@example.com", policy.PlatformUser)
	orgA := e.createOrg(a, "Alpha")
	b := e.signUp("b@example.com", policy.PlatformUser)
	orgB := e.createOrg(b, "Beta")
	me := e.signUp("me@example.com", policy.PlatformUser)

	revoked := e.invite(b.in(orgB), "me@example.com", adminRole)
	e.post(b.in(orgB), revokeOp, map[string]any{"id": revoked.ID}).ok(t)
	fromA := e.invite(a.in(orgA), "me@example.com", editorRole)
	e.invite(a.in(orgA), "someone@example.com", viewerRole)
	fromB := e.invite(b.in(orgB), "me@example.com", viewerRole, editorRole)

	var mine []invitationOut
	e.post(me.bare(), myInvitationsOp, nil).ok(t).decode(t, "myInvitations", &mine)
	if len(mine) != 2 || mine[0].ID != fromB.ID || mine[1].ID != fromA.ID {
		t.Fatalf("myInvitations = %+v, want B's then A's", mine)
	}
	if mine[0].Organization.Name != "Beta" || mine[1].Organization.Name != "Alpha" || mine[0].InvitedBy.Email != "b@example.com" {
		t.Errorf("organizations and inviters: %+v", mine)
	}
	if diff := cmp.Diff([]string{"viewer", "editor"}, mine[0].roleKeys()); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
	var none []invitationOut
	e.post(a.bare(), myInvitationsOp, nil).ok(t).decode(t, "myInvitations", &none)
	if len(none) != 0 {
		t.Errorf("a sees invitations addressed to others: %+v", none)
	}
	if got := e.post(caller{}, myInvitationsOp, nil).code(t); got != "UNAUTHENTICATED" {
		t.Errorf("myInvitations signed out: %s", got)
	}
}

// TestInvitePageDoesNotSpendTheLink: opening the link serves the page and
// changes nothing; the token shows up in no log line, and the database holds
// only its secret's hash.
func TestInvitePageDoesNotSpendTheLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	org := e.createOrg(owner, "Acme")
	inv := e.invite(owner.in(org), "clicker@example.com", viewerRole)
	token := e.invitationToken("clicker@example.com")
	for _, path := range []string{"/invite?token=" + token, "/invite.js"} {
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, path, nil))
		h := rec.Header()
		if rec.Code != 200 || h.Get("Referrer-Policy") != "no-referrer" || !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("GET %s: %d, headers %v", strings.Split(path, "?")[0], rec.Code, h)
		}
		if strings.Contains(rec.Body.String(), token) {
			t.Errorf("GET %s echoes the token into the page", strings.Split(path, "?")[0])
		}
	}
	if st := e.invitationStatus(inv.ID); st != "PENDING" {
		t.Fatalf("opening the page made the invitation %s", st)
	}
	e.accept(caller{}, token).ok(t)

	secret := token[len(org)+1:]
	log := e.log.String()
	if !strings.Contains(log, `"path":"/invite"`) || strings.Contains(log, secret) {
		t.Errorf("the log must record /invite and never the invitation token")
	}
	h := sha256.Sum256([]byte(secret))
	var hashed, plain int
	err := e.db.Super(t).QueryRow(t.Context(), `
		SELECT (SELECT count(*) FROM invitations WHERE token_hash = $1),
		       (SELECT count(*) FROM (
		          SELECT row_to_json(t)::text AS j FROM (SELECT * FROM invitations) t UNION ALL
		          SELECT row_to_json(t)::text FROM (SELECT * FROM mail_outbox) t UNION ALL
		          SELECT row_to_json(t)::text FROM (SELECT * FROM audit_events) t
		        ) rows WHERE j LIKE '%' || $2 || '%')`, h[:], secret).Scan(&hashed, &plain)
	if err != nil {
		t.Fatal(err)
	}
	if hashed != 1 || plain != 0 {
		t.Errorf("the secret's hash is stored %d times (want 1), the secret itself in %d rows (want 0)", hashed, plain)
	}
}

// TestInvitationsDieWithTheirOrganization: once an organization is deleted
// (soft, as deleteOrganization may do), its invitations leave
// myInvitations and their links answer as unknown ones.
func TestInvitationsDieWithTheirOrganization(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a := e.signUp("a@example.com", policy.PlatformUser)
	orgA := e.createOrg(a, "Alpha")
	b := e.signUp("b@example.com", policy.PlatformUser)
	orgB := e.createOrg(b, "Beta")
	me := e.signUp("me@example.com", policy.PlatformUser)
	fromA := e.invite(a.in(orgA), "me@example.com", viewerRole)
	e.invite(b.in(orgB), "me@example.com", viewerRole)
	token := e.invitationToken("me@example.com") // Beta's, the newest
	if _, err := e.db.Super(t).Exec(t.Context(), `UPDATE organizations SET deleted_at = now() WHERE id = $1`, orgB); err != nil {
		t.Fatal(err)
	}

	var mine []invitationOut
	e.post(me.bare(), myInvitationsOp, nil).ok(t).decode(t, "myInvitations", &mine)
	if len(mine) != 1 || mine[0].ID != fromA.ID {
		t.Errorf("myInvitations = %+v, want Alpha's only", mine)
	}
	wantError(t, e.accept(me.bare(), token), "UNAUTHENTICATED", "invalid or expired invitation")
}
