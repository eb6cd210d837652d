package policy_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/quirehq/quire/internal/policy"
)

// TestCanManageMemberExamples are the cases DESIGN.md names, by role.
func TestCanManageMemberExamples(t *testing.T) {
	role := func(key string) []string {
		for _, r := range designRoles {
			if r.key == key {
				return r.codes
			}
		}
		t.Fatalf("no built-in role %q", key)
		return nil
	}
	cases := []struct {
		name       string
		actor      []string
		modules    []string
		target     []string
		allowed    bool
		permission string
	}{
		{"owner manages owner", role("owner"), designModules, role("owner"), true, ""},
		{"owner manages admin", role("owner"), designModules, role("admin"), true, ""},
		{"admin cannot manage owner", role("admin"), designModules, role("owner"), false, "org:delete"},
		{"admin manages admin", role("admin"), designModules, role("admin"), true, ""},
		{"admin manages editor", role("admin"), designModules, role("editor"), true, ""},
		{"editor manages viewer", role("editor"), designModules, role("viewer"), true, ""},
		{"viewer cannot manage editor", role("viewer"), designModules, role("editor"), false, "notes:create"},
		{"anyone manages a member without roles", nil, designModules, nil, true, ""},
		{"no roles cannot manage viewer", nil, designModules, role("viewer"), false, "members:read"},
		{"custom holder of audit:read out of admin-minus-audit's reach", without(role("admin"), "audit:read"), designModules,
			[]string{"notes:read", "audit:read"}, false, "audit:read"},
		{"a disabled module's permission still counts", without(role("admin"), "audit:read"), []string{"core", "notes", "api_keys"},
			[]string{"notes:read", "audit:read"}, false, "audit:read"},
		{"disabled modules do not disarm the owner", role("owner"), []string{"core"}, role("editor"), true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := policy.Principal{UserID: me, OrgID: orgA, Granted: mustSet(t, tc.actor...), Modules: mustModules(t, tc.modules...)}
			d := policy.CanManageMember(p, mustSet(t, tc.target...))
			if d.Allowed != tc.allowed || d.Hidden {
				t.Fatalf("CanManageMember = %+v, want Allowed=%v", d, tc.allowed)
			}
			if tc.allowed {
				if d.Reason != policy.ReasonAllowed {
					t.Errorf("allow with reason %q", d.Reason)
				}
				return
			}
			if d.Permission.String() != tc.permission || !strings.Contains(d.Reason, tc.permission) {
				t.Errorf("deny %+v, want it to name %s", d, tc.permission)
			}
		})
	}
}

func without(codes []string, drop string) []string {
	var out []string
	for _, c := range codes {
		if c != drop {
			out = append(out, c)
		}
	}
	return out
}

// TestCanManageMember checks every actor × module set × target against a
// plain statement of the rule: allowed exactly when every permission the
// target's roles give is one the actor's roles give, whatever modules are
// on; a deny names the first such permission in catalog order that the
// actor lacks.
func TestCanManageMember(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	targets := grantedCases()
	for range 100 {
		var codes []string
		for _, c := range designCatalog {
			if rng.IntN(3) == 0 {
				codes = append(codes, c.code)
			}
		}
		targets = append(targets, grantedCase{"random", codes})
	}
	n := 0
	for _, gc := range grantedCases() {
		for _, mc := range moduleCases() {
			p := policy.Principal{UserID: me, OrgID: orgA, Granted: mustSet(t, gc.codes...), Modules: mustModules(t, mc.enabled...)}
			for _, pr := range platformRoles { // the platform role changes nothing
				p.PlatformRole = pr
				for _, tg := range targets {
					n++
					checkManage(t, p, gc.codes, mc.enabled, tg.codes)
				}
			}
		}
	}
	t.Logf("checked %d decisions", n)
}

func checkManage(t *testing.T, p policy.Principal, actor, modules, target []string) {
	t.Helper()
	held := codeSet(actor)
	want := ""
	for _, c := range designCatalog { // catalog order
		if codeSet(target)[c.code] && !held[c.code] { // modules aside
			want = c.code
			break
		}
	}
	d := policy.CanManageMember(p, mustSet(t, target...))
	switch {
	case d.Hidden:
		t.Fatalf("actor %v, target %v, modules %v: Hidden %+v", actor, target, modules, d)
	case want == "" && (!d.Allowed || d.Reason != policy.ReasonAllowed):
		t.Fatalf("actor %v, target %v, modules %v: %+v, want allowed", actor, target, modules, d)
	case want != "" && (d.Allowed || d.Permission.String() != want || !strings.Contains(d.Reason, want)):
		t.Fatalf("actor %v, target %v, modules %v: %+v, want a deny naming %s", actor, target, modules, d, want)
	}
}

// TestCanManageMemberFailsClosed: a target set with bits outside the
// catalog is denied even for an owner.
func TestCanManageMemberFailsClosed(t *testing.T) {
	owner := policy.Principal{Granted: policy.All, Modules: policy.AllModules}
	for _, s := range []policy.Set{1 << 20, 1<<31 | policy.SetOf(policy.NotesRead)} {
		if d := policy.CanManageMember(owner, s); d.Allowed || d.Reason == "" {
			t.Errorf("CanManageMember(%b) = %+v, want a deny with a reason", s, d)
		}
	}
}

// TestCanManageMemberAgreesWithCanGrant: whoever may grant a set may also
// manage a member holding exactly it, and the reverse.
func TestCanManageMemberAgreesWithCanGrant(t *testing.T) {
	for _, gc := range grantedCases() {
		for _, mc := range moduleCases() {
			p := policy.Principal{Granted: mustSet(t, gc.codes...), Modules: mustModules(t, mc.enabled...)}
			for _, tg := range grantedCases() {
				s := mustSet(t, tg.codes...).Enabled(p.Modules)
				if g, m := policy.CanGrant(p, s), policy.CanManageMember(p, s); g.Allowed != m.Allowed || g.Permission != m.Permission {
					t.Errorf("%s/%s on %s: CanGrant %+v, CanManageMember %+v", gc.name, mc.name, tg.name, g, m)
				}
			}
		}
	}
}

// TestCanLeave: members may leave; API keys may not leave for their creator.
func TestCanLeave(t *testing.T) {
	cases := []struct {
		name    string
		p       policy.Principal
		allowed bool
	}{
		{"member", policy.Principal{UserID: me, OrgID: orgA}, true},
		{"owner", policy.Principal{UserID: me, OrgID: orgA, Granted: policy.All, Modules: policy.AllModules}, true},
		{"api key", policy.Principal{UserID: me, OrgID: orgA, APIKeyID: policy.ID{0x9}, Granted: policy.All}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := policy.CanLeave(tc.p)
			if d.Allowed != tc.allowed || d.Reason == "" {
				t.Errorf("CanLeave = %+v, want Allowed=%v with a reason", d, tc.allowed)
			}
		})
	}
}
