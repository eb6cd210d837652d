package main

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/authz"
	"github.com/quirehq/quire/internal/mail"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
)

const (
	userFields   = `id email displayName platformRole status`
	registerOp   = `mutation($e: String!, $n: String) { registerUser(email: $e, displayName: $n) { ` + userFields + ` } }`
	setRoleOp    = `mutation($id: ID!, $r: PlatformRole!) { setPlatformRole(userId: $id, role: $r) { ` + userFields + ` } }`
	deactivateOp = `mutation($id: ID!, $why: String) { deactivateUser(userId: $id, reason: $why) { ` + userFields + ` } }`
	reactivateOp = `mutation($id: ID!) { reactivateUser(userId: $id) { ` + userFields + ` } }`
	usersOp      = `query($first: Int, $after: String, $q: String) { users(first: $first, after: $after, query: $q) {
		totalCount edges { cursor node { ` + userFields + ` } } pageInfo { hasNextPage endCursor } } }`
	meOp          = `{ me { id } }`
	requestLinkOp = `mutation($e: String!) { requestLoginLink(email: $e) }`
)

type userOut struct {
	ID           string
	Email        string
	DisplayName  *string
	PlatformRole string
	Status       string
}

// globalEvent is an audit event outside any organization.
type globalEvent struct{ Actor, Target, Reason string }

// globalEvents returns the audit events with action, oldest first; they must
// all be outside any organization.
func (e *env) globalEvents(action string) []globalEvent {
	e.t.Helper()
	rows, err := e.db.Super(e.t).Query(e.t.Context(), `
		SELECT coalesce(actor_id::text, ''), coalesce(target_id::text, ''), coalesce(reason, ''), org_id IS NULL, override
		FROM audit_events WHERE action = $1 ORDER BY created_at, id`, action)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []globalEvent
	for rows.Next() {
		var ev globalEvent
		var global, override bool
		if err := rows.Scan(&ev.Actor, &ev.Target, &ev.Reason, &global, &override); err != nil {
			e.t.Fatal(err)
		}
		if !global || override {
			e.t.Errorf("%s event %+v: org-less %v, override %v; want org-less and no override", action, ev, global, override)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// deliveredTo waits for the deliveries under way and returns the mails sent
// to addr.
func (e *env) deliveredTo(addr string) []mail.Message {
	e.t.Helper()
	e.app.accounts.Wait()
	var out []mail.Message
	for _, m := range e.mails.all() {
		if m.To == addr {
			out = append(out, m)
		}
	}
	return out
}

// signInWithLink posts the token of a login link.
func (e *env) signInWithLink(link string) gqlResponse {
	e.t.Helper()
	return e.post(caller{}, `mutation($t: String!) { signInWithLink(token: $t) { accessToken user { id } } }`,
		map[string]any{"t": tokenOf(e.t, link)})
}

// userByID reads a user through the users query, as an administrator sees it.
func (e *env) userByID(admin user, email string) userOut {
	e.t.Helper()
	var c struct{ Edges []struct{ Node userOut } }
	e.post(admin.bare(), usersOp, map[string]any{"q": email}).ok(e.t).decode(e.t, "users", &c)
	if len(c.Edges) != 1 {
		e.t.Fatalf("users(query: %q) = %+v, want one user", email, c.Edges)
	}
	return c.Edges[0].Node
}

// userRow reads what the API does not show of a user.
func (e *env) userRow(id uuid.UUID) (status, reason string, epoch int64, liveSessions int) {
	e.t.Helper()
	err := e.db.Super(e.t).QueryRow(e.t.Context(), `
		SELECT status, coalesce(deactivated_reason, ''), authz_epoch,
		       (SELECT count(*) FROM sessions WHERE user_id = u.id AND revoked_at IS NULL)
		FROM users u WHERE id = $1`, id).Scan(&status, &reason, &epoch, &liveSessions)
	if err != nil {
		e.t.Fatal(err)
	}
	return status, reason, epoch, liveSessions
}

// denial is a request that must fail with code (and, for FORBIDDEN, reason).
type denial struct {
	name   string
	c      caller
	op     string
	vars   map[string]any
	code   string
	reason string
}

func (e *env) checkDenials(t *testing.T, cases []denial) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.post(tc.c, tc.op, tc.vars)
			if got := r.code(t); got != tc.code {
				t.Fatalf("code %s, want %s (%+v)", got, tc.code, r.Errors)
			}
			if got, _ := r.Errors[0].Extensions["reason"].(string); tc.reason != "" && got != tc.reason {
				t.Errorf("reason %q, want %q", got, tc.reason)
			}
		})
	}
}

// TestRegisterUser: an ADMIN creates a USER, who gets a working sign-in link
// by mail; everyone else, and every existing address, changes nothing.
func TestRegisterUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	admin := e.signUp("admin@example.com", policy.PlatformAdmin)
	plain := e.signUp("plain@example.com", policy.PlatformUser)

	var got userOut
	e.post(admin.bare(), registerOp, map[string]any{"e": " New.Person@Example.com ", "n": "  New Person  "}).
		ok(t).decode(t, "registerUser", &got)
	name := "New Person"
	want := userOut{ID: got.ID, Email: "new.person@example.com", DisplayName: &name, PlatformRole: "USER", Status: "ACTIVE"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("registerUser (-want +got):\n%s", diff)
	}
	mails := e.deliveredTo("new.person@example.com")
	if len(mails) != 1 || mails[0].Kind != "login" || !strings.Contains(mails[0].Subject, "invited") ||
		!strings.Contains(mails[0].Text, mails[0].Link) {
		t.Fatalf("mails to the new user = %+v, want one invitation to sign in carrying its link", mails)
	}
	var p struct{ User struct{ ID string } }
	e.signInWithLink(mails[0].Link).ok(t).decode(t, "signInWithLink", &p)
	if p.User.ID != got.ID {
		t.Errorf("the mailed link signs in %s, want %s", p.User.ID, got.ID)
	}

	e.checkDenials(t, []denial{
		{"by a USER", plain.bare(), registerOp, map[string]any{"e": "other@example.com"}, "FORBIDDEN", "requires the ADMIN platform role"},
		{"signed out", caller{}, registerOp, map[string]any{"e": "other@example.com"}, "UNAUTHENTICATED", ""},
		{"registered email, other case", admin.bare(), registerOp, map[string]any{"e": "NEW.PERSON@example.com", "n": "Impostor"}, "CONFLICT", ""},
		{"email of a signed-up user", admin.bare(), registerOp, map[string]any{"e": "plain@example.com"}, "CONFLICT", ""},
		{"malformed email", admin.bare(), registerOp, map[string]any{"e": "not an address"}, "BAD_USER_INPUT", ""},
		{"name too long", admin.bare(), registerOp, map[string]any{"e": "long@example.com", "n": strings.Repeat("n", 101)}, "BAD_USER_INPUT", ""},
	})
	r := e.post(admin.bare(), registerOp, map[string]any{"e": "new.person@example.com"})
	if r.code(t) != "CONFLICT" || r.Errors[0].Message != "a user with this email already exists" {
		t.Errorf("registering an existing email: %+v", r.Errors)
	}

	var all struct{ TotalCount int }
	e.post(admin.bare(), usersOp, nil).ok(t).decode(t, "users", &all)
	if all.TotalCount != 3 {
		t.Errorf("%d users after the refusals, want 3", all.TotalCount)
	}
	if diff := cmp.Diff(want, e.userByID(admin, "new.person")); diff != "" {
		t.Errorf("the registered user changed (-want +got):\n%s", diff)
	}
	if n := len(e.deliveredTo("new.person@example.com")) + len(e.deliveredTo("plain@example.com")); n != 1 {
		t.Errorf("%d mails in all, want only the first invitation", n)
	}
	wantEvents := []globalEvent{{admin.id.String(), got.ID, ""}}
	if diff := cmp.Diff(wantEvents, e.globalEvents("user.register")); diff != "" {
		t.Errorf("user.register events (-want +got):\n%s", diff)
	}
}

// TestSetPlatformRole: ADMIN moves users between USER and ADMIN, the same
// role twice is one change, and the refusals change nothing.
func TestSetPlatformRole(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	super := e.signUp("super@example.com", policy.PlatformSuperadmin)
	admin := e.signUp("admin@example.com", policy.PlatformAdmin)
	u := e.signUp("user@example.com", policy.PlatformUser)
	plain := e.signUp("plain@example.com", policy.PlatformUser)

	if got := e.post(u.bare(), usersOp, nil).code(t); got != "FORBIDDEN" {
		t.Fatalf("a USER lists users: code %s, want FORBIDDEN", got)
	}
	promoted := userOut{ID: u.id.String(), Email: u.email, PlatformRole: "ADMIN", Status: "ACTIVE"}
	for i := range 2 {
		var got userOut
		e.post(admin.bare(), setRoleOp, map[string]any{"id": u.id, "r": "ADMIN"}).ok(t).decode(t, "setPlatformRole", &got)
		if diff := cmp.Diff(promoted, got); diff != "" {
			t.Errorf("setPlatformRole #%d (-want +got):\n%s", i+1, diff)
		}
	}
	wantEvents := []globalEvent{{admin.id.String(), u.id.String(), "USER -> ADMIN"}}
	if diff := cmp.Diff(wantEvents, e.globalEvents("user.set_platform_role")); diff != "" {
		t.Errorf("events after the same change twice (-want +got):\n%s", diff)
	}
	if _, _, epoch, _ := e.userRow(u.id); epoch != 2 {
		t.Errorf("authz epoch %d after one change, want 2", epoch)
	}
	e.post(u.bare(), usersOp, nil).ok(t) // their very next request holds the new role

	id := func(x user, role string) map[string]any { return map[string]any{"id": x.id, "r": role} }
	const superOnly = "only a SUPERADMIN may grant or remove SUPERADMIN"
	const own = "nobody changes their own platform role"
	e.checkDenials(t, []denial{
		{"ADMIN grants SUPERADMIN", admin.bare(), setRoleOp, id(plain, "SUPERADMIN"), "FORBIDDEN", superOnly},
		{"ADMIN demotes a SUPERADMIN", admin.bare(), setRoleOp, id(super, "ADMIN"), "FORBIDDEN", superOnly},
		{"ADMIN demotes themselves", admin.bare(), setRoleOp, id(admin, "USER"), "FORBIDDEN", own},
		{"ADMIN sets their own role as it is", admin.bare(), setRoleOp, id(admin, "ADMIN"), "FORBIDDEN", own},
		{"SUPERADMIN demotes themselves", super.bare(), setRoleOp, id(super, "ADMIN"), "FORBIDDEN", own},
		{"USER promotes themselves", plain.bare(), setRoleOp, id(plain, "ADMIN"), "FORBIDDEN", "requires the ADMIN platform role"},
		{"unknown user", admin.bare(), setRoleOp, map[string]any{"id": uuid.Must(uuid.NewV7()), "r": "ADMIN"}, "NOT_FOUND", ""},
		{"signed out", caller{}, setRoleOp, id(plain, "ADMIN"), "UNAUTHENTICATED", ""},
	})
	for _, who := range []struct {
		u    user
		role string
	}{{super, "SUPERADMIN"}, {admin, "ADMIN"}, {plain, "USER"}} {
		if got := e.userByID(admin, who.u.email).PlatformRole; got != who.role {
			t.Errorf("%s is %s after the refusals, want %s", who.u.email, got, who.role)
		}
	}
	if n := len(e.globalEvents("user.set_platform_role")); n != 1 {
		t.Errorf("%d role events after the refusals, want 1", n)
	}

	// A SUPERADMIN grants and removes SUPERADMIN.
	for _, r := range []string{"SUPERADMIN", "USER"} {
		var got userOut
		e.post(super.bare(), setRoleOp, id(plain, r)).ok(t).decode(t, "setPlatformRole", &got)
		if got.PlatformRole != r {
			t.Errorf("SUPERADMIN sets %s: got %s", r, got.PlatformRole)
		}
	}
	wantEvents = append(wantEvents,
		globalEvent{super.id.String(), plain.id.String(), "USER -> SUPERADMIN"},
		globalEvent{super.id.String(), plain.id.String(), "SUPERADMIN -> USER"})
	if diff := cmp.Diff(wantEvents, e.globalEvents("user.set_platform_role")); diff != "" {
		t.Errorf("role events (-want +got):\n%s", diff)
	}
}

// TestLastSuperadmin: nobody can take the platform's last active SUPERADMIN
// away, neither by demotion nor by deactivation.
func TestLastSuperadmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a := e.signUp("a@example.com", policy.PlatformSuperadmin)
	admin := e.signUp("admin@example.com", policy.PlatformAdmin)
	id := func(x user, role string) map[string]any { return map[string]any{"id": x.id, "r": role} }
	idOf := func(x user) map[string]any { return map[string]any{"id": x.id} }
	const superOnly = "only a SUPERADMIN may grant or remove SUPERADMIN"
	const superStatus = "only a SUPERADMIN may deactivate or reactivate a SUPERADMIN"
	alone := []denial{
		{"demotes themselves", a.bare(), setRoleOp, id(a, "ADMIN"), "FORBIDDEN", "nobody changes their own platform role"},
		{"deactivates themselves", a.bare(), deactivateOp, idOf(a), "FORBIDDEN", "an administrator cannot deactivate themselves"},
		{"ADMIN demotes them", admin.bare(), setRoleOp, id(a, "USER"), "FORBIDDEN", superOnly},
		{"ADMIN deactivates them", admin.bare(), deactivateOp, idOf(a), "FORBIDDEN", superStatus},
	}
	t.Run("alone", func(t *testing.T) { e.checkDenials(t, alone) })

	b := e.signUp("b@example.com", policy.PlatformSuperadmin)
	var got userOut
	e.post(a.bare(), setRoleOp, id(b, "ADMIN")).ok(t).decode(t, "setPlatformRole", &got)
	if got.PlatformRole != "ADMIN" {
		t.Fatalf("A demoting B, one of two SUPERADMINs: %+v", got)
	}
	t.Run("after demoting the other", func(t *testing.T) {
		e.checkDenials(t, []denial{
			{"B demotes A", b.bare(), setRoleOp, id(a, "ADMIN"), "FORBIDDEN", superOnly},
			{"B deactivates A", b.bare(), deactivateOp, idOf(a), "FORBIDDEN", superStatus},
			{"A demotes themselves", a.bare(), setRoleOp, id(a, "ADMIN"), "FORBIDDEN", "nobody changes their own platform role"},
		})
	})

	// B's request checked their role before A's change landed: the race,
	// slowed down. The service's own count stops it.
	stale := authz.Caller{UserID: b.id, PlatformRole: policy.PlatformSuperadmin}
	_, err := e.app.accounts.SetPlatformRole(t.Context(), stale, a.id, policy.PlatformAdmin)
	if qe := qerr.As(err); qe == nil || qe.Code != qerr.Conflict || qe.Message != "the last active SUPERADMIN cannot be demoted" {
		t.Errorf("demoting the last SUPERADMIN: %v, want CONFLICT", err)
	}
	_, err = e.app.accounts.Deactivate(t.Context(), stale, a.id, nil)
	if qe := qerr.As(err); qe == nil || qe.Code != qerr.Conflict || qe.Message != "the last active SUPERADMIN cannot be deactivated" {
		t.Errorf("deactivating the last SUPERADMIN: %v, want CONFLICT", err)
	}
	if got := e.userByID(a, a.email); got.PlatformRole != "SUPERADMIN" || got.Status != "ACTIVE" {
		t.Errorf("the last SUPERADMIN is now %+v", got)
	}
}

// TestSuperadminsRemovingEachOther: two SUPERADMINs removing each other at
// once leave exactly one, however the two requests interleave.
func TestSuperadminsRemovingEachOther(t *testing.T) {
	t.Parallel()
	removals := []struct {
		name string
		op   string
		vars func(target user) map[string]any
		call func(e *env, actor authz.Caller, target uuid.UUID) error
	}{
		{
			"demote", setRoleOp,
			func(x user) map[string]any { return map[string]any{"id": x.id, "r": "ADMIN"} },
			func(e *env, actor authz.Caller, target uuid.UUID) error {
				_, err := e.app.accounts.SetPlatformRole(e.t.Context(), actor, target, policy.PlatformAdmin)
				return err
			},
		},
		{
			"deactivate", deactivateOp,
			func(x user) map[string]any { return map[string]any{"id": x.id} },
			func(e *env, actor authz.Caller, target uuid.UUID) error {
				_, err := e.app.accounts.Deactivate(e.t.Context(), actor, target, nil)
				return err
			},
		},
	}
	for _, rm := range removals {
		// Through the API, the loser fails at the service's count (CONFLICT)
		// or, if its request started after the winner committed, at the door:
		// demoted (FORBIDDEN) or deactivated (UNAUTHENTICATED).
		t.Run(rm.name+"/api", func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			a, b := e.signUp("a@example.com", policy.PlatformSuperadmin), e.signUp("b@example.com", policy.PlatformSuperadmin)
			pairs := [2][2]user{{a, b}, {b, a}}
			codes := race(func(i int) string {
				r := e.post(pairs[i][0].bare(), rm.op, rm.vars(pairs[i][1]))
				if len(r.Errors) == 0 {
					return "OK"
				}
				c, _ := r.Errors[0].Extensions["code"].(string)
				return c
			})
			lost := slices.DeleteFunc(slices.Clone(codes), func(c string) bool { return c == "OK" })
			if len(lost) != 1 || !slices.Contains([]string{"CONFLICT", "FORBIDDEN", "UNAUTHENTICATED"}, lost[0]) {
				t.Errorf("outcomes %q, want one OK and one refusal", codes)
			}
			if n := e.activeSuperadmins(); n != 1 {
				t.Errorf("%d active SUPERADMINs left, want 1", n)
			}
		})
		// Both admitted as SUPERADMINs, as two requests that pass the door
		// together are: only the service's locks and count decide.
		t.Run(rm.name+"/both-admitted", func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			a, b := e.signUp("a@example.com", policy.PlatformSuperadmin), e.signUp("b@example.com", policy.PlatformSuperadmin)
			pairs := [2][2]uuid.UUID{{a.id, b.id}, {b.id, a.id}}
			codes := race(func(i int) string {
				err := rm.call(e, authz.Caller{UserID: pairs[i][0], PlatformRole: policy.PlatformSuperadmin}, pairs[i][1])
				if err == nil {
					return "OK"
				}
				return string(qerr.CodeOf(err))
			})
			slices.Sort(codes)
			if diff := cmp.Diff([]string{"CONFLICT", "OK"}, codes); diff != "" {
				t.Errorf("outcomes (-want +got):\n%s", diff)
			}
			if n := e.activeSuperadmins(); n != 1 {
				t.Errorf("%d active SUPERADMINs left, want 1", n)
			}
		})
	}
}

// race runs f(0) and f(1) at once and returns their results.
func race(f func(i int) string) []string {
	out := make([]string, 2)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() {
			<-start
			out[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return out
}

func (e *env) activeSuperadmins() int {
	e.t.Helper()
	var n int
	err := e.db.Super(e.t).QueryRow(e.t.Context(),
		`SELECT count(*) FROM users WHERE platform_role = 'SUPERADMIN' AND status = 'ACTIVE'`).Scan(&n)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestDeactivateUser: deactivation cuts every credential on the next
// request, reactivation restores signing in but no old session, and both
// are idempotent.
func TestDeactivateUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	admin := e.signUp("admin@example.com", policy.PlatformAdmin)
	super := e.signUp("super@example.com", policy.PlatformSuperadmin)
	target := e.signUp("target@example.com", policy.PlatformUser)
	plain := e.signUp("plain@example.com", policy.PlatformUser)
	e.post(caller{}, requestLinkOp, map[string]any{"e": target.email}).ok(t)
	links := e.deliveredTo(target.email)
	if len(links) != 1 {
		t.Fatalf("mails before deactivation = %+v, want one link", links)
	}
	e.post(target.bare(), meOp, nil).ok(t)

	idOf := func(x user) map[string]any { return map[string]any{"id": x.id} }
	e.checkDenials(t, []denial{
		{"themselves", admin.bare(), deactivateOp, idOf(admin), "FORBIDDEN", "an administrator cannot deactivate themselves"},
		{"ADMIN deactivates a SUPERADMIN", admin.bare(), deactivateOp, idOf(super), "FORBIDDEN",
			"only a SUPERADMIN may deactivate or reactivate a SUPERADMIN"},
		{"ADMIN reactivates a SUPERADMIN", admin.bare(), reactivateOp, idOf(super), "FORBIDDEN",
			"only a SUPERADMIN may deactivate or reactivate a SUPERADMIN"},
		{"by a USER", plain.bare(), deactivateOp, idOf(target), "FORBIDDEN", "requires the ADMIN platform role"},
		{"reason too long", admin.bare(), deactivateOp, map[string]any{"id": target.id, "why": strings.Repeat("r", 501)}, "BAD_USER_INPUT", ""},
		{"unknown user", admin.bare(), deactivateOp, map[string]any{"id": uuid.Must(uuid.NewV7())}, "NOT_FOUND", ""},
		{"unknown user, reactivate", admin.bare(), reactivateOp, map[string]any{"id": uuid.Must(uuid.NewV7())}, "NOT_FOUND", ""},
	})
	e.post(target.bare(), meOp, nil).ok(t)
	e.post(super.bare(), meOp, nil).ok(t)

	deactivated := userOut{ID: target.id.String(), Email: target.email, PlatformRole: "USER", Status: "DEACTIVATED"}
	for i := range 2 {
		var got userOut
		e.post(admin.bare(), deactivateOp, map[string]any{"id": target.id, "why": "  left the company  "}).ok(t).decode(t, "deactivateUser", &got)
		if diff := cmp.Diff(deactivated, got); diff != "" {
			t.Errorf("deactivateUser #%d (-want +got):\n%s", i+1, diff)
		}
	}
	wantEvents := []globalEvent{{admin.id.String(), target.id.String(), "left the company"}}
	if diff := cmp.Diff(wantEvents, e.globalEvents("user.deactivate")); diff != "" {
		t.Errorf("user.deactivate events (-want +got):\n%s", diff)
	}
	status, reason, _, live := e.userRow(target.id)
	if status != "DEACTIVATED" || reason != "left the company" || live != 0 {
		t.Errorf("after deactivation: status %s, reason %q, %d live sessions", status, reason, live)
	}

	if got := e.post(target.bare(), meOp, nil).code(t); got != "UNAUTHENTICATED" {
		t.Errorf("access token after deactivation: code %s, want UNAUTHENTICATED", got)
	}
	refresh := `mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken } }`
	if got := e.post(caller{}, refresh, map[string]any{"r": target.refresh}).code(t); got != "UNAUTHENTICATED" {
		t.Errorf("refresh token after deactivation: code %s, want UNAUTHENTICATED", got)
	}
	if got := e.signInWithLink(links[0].Link).code(t); got != "UNAUTHENTICATED" {
		t.Errorf("login link minted before deactivation: code %s, want UNAUTHENTICATED", got)
	}
	e.post(caller{}, requestLinkOp, map[string]any{"e": target.email}).ok(t)
	if n := len(e.deliveredTo(target.email)); n != 1 {
		t.Errorf("%d mails to a deactivated user, want no new one", n)
	}

	reactivated := deactivated
	reactivated.Status = "ACTIVE"
	for i := range 2 {
		var got userOut
		e.post(admin.bare(), reactivateOp, idOf(target)).ok(t).decode(t, "reactivateUser", &got)
		if diff := cmp.Diff(reactivated, got); diff != "" {
			t.Errorf("reactivateUser #%d (-want +got):\n%s", i+1, diff)
		}
	}
	if diff := cmp.Diff([]globalEvent{{admin.id.String(), target.id.String(), ""}}, e.globalEvents("user.reactivate")); diff != "" {
		t.Errorf("user.reactivate events (-want +got):\n%s", diff)
	}
	if got := e.post(target.bare(), meOp, nil).code(t); got != "UNAUTHENTICATED" {
		t.Errorf("old access token after reactivation: code %s, want UNAUTHENTICATED (sessions stay revoked)", got)
	}
	if got := e.signInWithLink(links[0].Link).code(t); got != "UNAUTHENTICATED" {
		t.Errorf("a link minted before deactivation works after reactivation: code %s", got)
	}
	e.post(caller{}, requestLinkOp, map[string]any{"e": target.email}).ok(t)
	links = e.deliveredTo(target.email)
	if len(links) != 2 {
		t.Fatalf("mails after reactivation = %d, want a new link", len(links))
	}
	var p struct{ AccessToken string }
	e.signInWithLink(links[1].Link).ok(t).decode(t, "signInWithLink", &p)
	e.post(caller{token: p.AccessToken}, meOp, nil).ok(t)

	// A SUPERADMIN deactivates an ADMIN, who is cut off at once.
	e.post(super.bare(), deactivateOp, idOf(admin)).ok(t)
	if got := e.post(admin.bare(), usersOp, nil).code(t); got != "UNAUTHENTICATED" {
		t.Errorf("deactivated ADMIN lists users: code %s, want UNAUTHENTICATED", got)
	}
}

// TestUsersList pages through every user and searches by prefix of email or
// display name, wildcards taken literally.
func TestUsersList(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	admin := e.signUp("admin@example.com", policy.PlatformAdmin)
	plain := e.signUp("plain@example.com", policy.PlatformUser)
	all := []string{admin.email, plain.email}
	for _, f := range []struct{ email, name string }{
		{"alice@example.com", ""},
		{"zed@example.com", "Alistair Zed"},
		{"bob@example.com", "Bobby"},
		{"100%off@example.com", ""},
		{"100xoff@example.com", ""},
		{"a_b@example.com", ""},
		{"axb@example.com", ""},
		{"slash@example.com", `Back\slash`},
		{"backxslash@example.com", ""},
	} {
		var name *string
		if f.name != "" {
			name = &f.name
		}
		if _, _, err := e.app.accounts.CreateWithLink(t.Context(), f.email, name, policy.PlatformUser); err != nil {
			t.Fatal(err)
		}
		all = append(all, f.email)
	}
	slices.Reverse(all) // newest first

	type conn struct {
		TotalCount int
		Edges      []struct {
			Cursor string
			Node   userOut
		}
		PageInfo struct {
			HasNextPage bool
			EndCursor   *string
		}
	}
	var got []string
	vars := map[string]any{"first": 4}
	for range len(all) {
		var c conn
		e.post(admin.bare(), usersOp, vars).ok(t).decode(t, "users", &c)
		if c.TotalCount != len(all) {
			t.Errorf("totalCount %d, want %d", c.TotalCount, len(all))
		}
		for _, edge := range c.Edges {
			got = append(got, edge.Node.Email)
		}
		if !c.PageInfo.HasNextPage {
			break
		}
		if last := c.Edges[len(c.Edges)-1].Cursor; c.PageInfo.EndCursor == nil || *c.PageInfo.EndCursor != last {
			t.Fatalf("endCursor %v is not the last edge's cursor %q", c.PageInfo.EndCursor, last)
		}
		vars["after"] = *c.PageInfo.EndCursor
	}
	if diff := cmp.Diff(all, got); diff != "" {
		t.Errorf("every page (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"ali", []string{"zed@example.com", "alice@example.com"}},
		{"  ALI ", []string{"zed@example.com", "alice@example.com"}},
		{"bobby", []string{"bob@example.com"}},
		{"100%", []string{"100%off@example.com"}},
		{"a_", []string{"a_b@example.com"}},
		{`back\`, []string{"slash@example.com"}},
		{"example.com", nil},
		{"   ", all},
	} {
		t.Run(fmt.Sprintf("query %q", tc.query), func(t *testing.T) {
			var c conn
			e.post(admin.bare(), usersOp, map[string]any{"q": tc.query, "first": 100}).ok(t).decode(t, "users", &c)
			var emails []string
			for _, edge := range c.Edges {
				emails = append(emails, edge.Node.Email)
			}
			if diff := cmp.Diff(tc.want, emails); diff != "" || c.TotalCount != len(tc.want) {
				t.Errorf("matches (-want +got):\n%s\ntotalCount %d", diff, c.TotalCount)
			}
		})
	}

	e.checkDenials(t, []denial{
		{"by a USER", plain.bare(), usersOp, nil, "FORBIDDEN", "requires the ADMIN platform role"},
		{"signed out", caller{}, usersOp, nil, "UNAUTHENTICATED", ""},
		{"first 0", admin.bare(), usersOp, map[string]any{"first": 0}, "BAD_USER_INPUT", ""},
		{"first 101", admin.bare(), usersOp, map[string]any{"first": 101}, "BAD_USER_INPUT", ""},
		{"foreign cursor", admin.bare(), usersOp, map[string]any{"after": "not-a-cursor"}, "BAD_USER_INPUT", ""},
		{"query too long", admin.bare(), usersOp, map[string]any{"q": strings.Repeat("q", 101)}, "BAD_USER_INPUT", ""},
	})
}

// TestSuperadminOverride: a SUPERADMIN acts in an organization they are not
// a member of, and the audit log says so; an ADMIN cannot.
func TestSuperadminOverride(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	org := e.createOrg(owner, "Elsewhere")
	theirs := e.createNote(owner.bare(), "the owner's", nil)
	super := e.signUp("super@example.com", policy.PlatformSuperadmin)
	admin := e.signUp("admin@example.com", policy.PlatformAdmin)

	var list struct {
		Edges []struct{ Node struct{ ID string } }
	}
	e.post(super.in(org), `{ notes { edges { node { id } } } }`, nil).ok(t).decode(t, "notes", &list)
	if len(list.Edges) != 1 || list.Edges[0].Node.ID != theirs.ID {
		t.Errorf("SUPERADMIN reads notes of %s: %+v, want the owner's note", org, list)
	}
	mine := e.createNote(super.in(org), "from the platform", nil)

	rows, err := e.db.Super(t).Query(t.Context(), `
		SELECT target_id::text, actor_id::text, coalesce(org_id::text, ''), override
		FROM audit_events WHERE action = 'note.create' ORDER BY created_at, id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type event struct {
		Target, Actor, Org string
		Override           bool
	}
	var got []event
	for rows.Next() {
		var ev event
		if err := rows.Scan(&ev.Target, &ev.Actor, &ev.Org, &ev.Override); err != nil {
			t.Fatal(err)
		}
		got = append(got, ev)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []event{{theirs.ID, owner.id.String(), org, false}, {mine.ID, super.id.String(), org, true}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("note.create events (-want +got):\n%s", diff)
	}

	e.checkDenials(t, []denial{
		{"ADMIN reads", admin.in(org), `{ notes { totalCount } }`, nil, "NOT_FOUND", ""},
		{"ADMIN writes", admin.in(org), `mutation { createNote(input: {title: "t", body: "b"}) { id } }`, nil, "NOT_FOUND", ""},
	})
}
