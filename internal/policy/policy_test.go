package policy_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/quirehq/quire/internal/policy"
)

// The rules of DESIGN.md ("Authorization model"), written out a second time
// as plain data, so that the tests do not check the package against itself.

// designCatalog is the permission catalog: code and module.
var designCatalog = []struct{ code, module string }{
	{"org:update", "core"},
	{"org:delete", "core"},
	{"org:transfer", "core"},
	{"members:read", "core"},
	{"members:invite", "core"},
	{"members:manage", "core"},
	{"members:remove", "core"},
	{"roles:manage", "core"},
	{"notes:read", "notes"},
	{"notes:create", "notes"},
	{"notes:update", "notes"},
	{"notes:delete", "notes"},
	{"notes:manage", "notes"},
	{"apikeys:read", "api_keys"},
	{"apikeys:manage", "api_keys"},
	{"audit:read", "audit"},
}

// designModules are the modules, in catalog order.
var designModules = []string{"core", "notes", "api_keys", "audit"}

// designRoles are the built-in roles, in the order BuiltInRoles returns them.
var designRoles = []struct {
	key   string
	codes []string
}{
	{"owner", []string{
		"org:update", "org:delete", "org:transfer",
		"members:read", "members:invite", "members:manage", "members:remove", "roles:manage",
		"notes:read", "notes:create", "notes:update", "notes:delete", "notes:manage",
		"apikeys:read", "apikeys:manage", "audit:read",
	}},
	{"admin", []string{
		"org:update",
		"members:read", "members:invite", "members:manage", "members:remove", "roles:manage",
		"notes:read", "notes:create", "notes:update", "notes:delete", "notes:manage",
		"apikeys:read", "apikeys:manage", "audit:read",
	}},
	{"editor", []string{"notes:read", "notes:create", "notes:update", "notes:delete", "members:read"}},
	{"viewer", []string{"notes:read", "members:read"}},
}

// moduleOf answers the module of a code from designCatalog.
func moduleOf(t testing.TB, code string) string {
	t.Helper()
	for _, c := range designCatalog {
		if c.code == code {
			return c.module
		}
	}
	t.Fatalf("%q is not in DESIGN.md's catalog", code)
	return ""
}

// mustSet parses codes into a Set, failing the test on an unknown one.
func mustSet(t testing.TB, codes ...string) policy.Set {
	t.Helper()
	s, unknown, ok := policy.ParseSet(codes)
	if !ok {
		t.Fatalf("ParseSet(%q): unknown code %q", codes, unknown)
	}
	return s
}

// mustModules builds a ModuleSet from names, failing the test on an unknown one.
func mustModules(t testing.TB, names ...string) policy.ModuleSet {
	t.Helper()
	var ms []policy.Module
	for _, n := range names {
		m, ok := policy.ParseModule(n)
		if !ok {
			t.Fatalf("ParseModule(%q) failed", n)
		}
		ms = append(ms, m)
	}
	return policy.ModulesOf(ms...)
}

func mustPermission(t testing.TB, code string) policy.Permission {
	t.Helper()
	p, ok := policy.ParsePermission(code)
	if !ok {
		t.Fatalf("ParsePermission(%q) failed", code)
	}
	return p
}

func codeSet(codes []string) map[string]bool {
	m := make(map[string]bool, len(codes))
	for _, c := range codes {
		m[c] = true
	}
	return m
}

var (
	orgA  = policy.ID{0xa}
	orgB  = policy.ID{0xb}
	me    = policy.ID{0x1}
	other = policy.ID{0x2}
)

// grantedCase is one value of Principal.Granted: a built-in role, no role
// at all, or a custom role.
type grantedCase struct {
	name  string
	codes []string
}

func grantedCases() []grantedCase {
	out := []grantedCase{}
	for _, r := range designRoles {
		out = append(out, grantedCase{r.key, r.codes})
	}
	return append(out,
		grantedCase{"no-role", nil},
		grantedCase{"custom-read+manage", []string{"notes:read", "notes:manage"}},
		grantedCase{"custom-update-only", []string{"notes:update"}},
	)
}

// resourceCase is what the action is on: the org itself, or a note of the
// caller's or of another member, ORG or PRIVATE.
type resourceCase struct {
	name    string
	note    bool
	own     bool
	private bool
}

var resourceCases = []resourceCase{
	{name: "org"},
	{name: "own-note-ORG", note: true, own: true},
	{name: "own-note-PRIVATE", note: true, own: true, private: true},
	{name: "others-note-ORG", note: true},
	{name: "others-note-PRIVATE", note: true, private: true},
}

func (rc resourceCase) resource(org policy.ID) policy.Resource {
	if !rc.note {
		return policy.InOrg(org)
	}
	author := other
	if rc.own {
		author = me
	}
	return policy.Note(org, author, rc.private)
}

// moduleCase is a set of enabled modules: all, each one disabled, none.
type moduleCase struct {
	name    string
	enabled []string
}

func moduleCases() []moduleCase {
	out := []moduleCase{{"all-modules", designModules}}
	for _, off := range designModules {
		var on []string
		for _, m := range designModules {
			if m != off {
				on = append(on, m)
			}
		}
		out = append(out, moduleCase{"without-" + off, on})
	}
	return append(out, moduleCase{"no-modules", nil})
}

var platformRoles = []policy.PlatformRole{policy.PlatformUser, policy.PlatformAdmin, policy.PlatformSuperadmin}

// outcome is the kind of answer the plain rules give.
type outcome int

const (
	allow outcome = iota
	hiddenOtherOrg
	hiddenPrivate
	denyMissing
	denyModule
)

func (o outcome) String() string {
	return [...]string{"allow", "hidden(other org)", "hidden(private)", "deny(missing permission)", "deny(module)"}[o]
}

type expectation struct {
	outcome outcome
	code    string // denyMissing: the missing permission
	module  string // denyModule: the disabled module
}

// plainRules is DESIGN.md's authorization model as if-statements. Platform
// roles do not appear: they act through Granted (and Override), set by authz.
func plainRules(t testing.TB, granted map[string]bool, code string, rc resourceCase, enabled map[string]bool, otherOrg bool) expectation {
	// Two walls between tenants; cross-tenant ids answer NOT_FOUND.
	if otherOrg {
		return expectation{outcome: hiddenOtherOrg}
	}
	// A PRIVATE note is visible to its author only: nobody else, whatever
	// they hold, may learn it exists.
	if rc.note && rc.private && !rc.own {
		return expectation{outcome: hiddenPrivate}
	}
	// Code checks permissions.
	if !granted[code] {
		return expectation{outcome: denyMissing, code: code}
	}
	// notes:update/notes:delete apply to one's own notes, notes:manage to anyone's.
	changeOthers := rc.note && !rc.own && (code == "notes:update" || code == "notes:delete")
	if changeOthers && !granted["notes:manage"] {
		return expectation{outcome: denyMissing, code: "notes:manage"}
	}
	// A permission whose module is disabled is denied, last.
	if m := moduleOf(t, code); !enabled[m] {
		return expectation{outcome: denyModule, module: m}
	}
	if m := moduleOf(t, "notes:manage"); changeOthers && !enabled[m] {
		return expectation{outcome: denyModule, module: m}
	}
	return expectation{outcome: allow}
}

func checkDecision(t testing.TB, want expectation, d policy.Decision) {
	t.Helper()
	if want.outcome == allow {
		if !d.Allowed || d.Hidden || d.Reason != policy.ReasonAllowed {
			t.Errorf("want allow with reason %q, got %+v", policy.ReasonAllowed, d)
		}
		return
	}
	if d.Allowed {
		t.Fatalf("want %v, got allowed: %+v", want.outcome, d)
	}
	if d.Reason == "" {
		t.Errorf("deny without a reason: %+v", d)
	}
	wantHidden := want.outcome == hiddenOtherOrg || want.outcome == hiddenPrivate
	if d.Hidden != wantHidden {
		t.Errorf("want %v, got Hidden=%v: %+v", want.outcome, d.Hidden, d)
	}
	switch want.outcome {
	case hiddenOtherOrg:
		if d.Reason != policy.ReasonOtherOrg {
			t.Errorf("want reason %q, got %q", policy.ReasonOtherOrg, d.Reason)
		}
	case hiddenPrivate:
		if d.Reason != policy.ReasonPrivateNote {
			t.Errorf("want reason %q, got %q", policy.ReasonPrivateNote, d.Reason)
		}
	case denyMissing:
		if got := d.Permission.String(); got != want.code {
			t.Errorf("want Permission %s, got %s (%+v)", want.code, got, d)
		}
		if !strings.Contains(d.Reason, want.code) {
			t.Errorf("reason %q does not name the missing %s", d.Reason, want.code)
		}
		if strings.Contains(d.Reason, "module") {
			t.Errorf("want a missing-permission reason, got a module one: %q", d.Reason)
		}
	case denyModule:
		if !strings.Contains(d.Reason, want.module) || !strings.Contains(d.Reason, "module") {
			t.Errorf("reason %q does not name the disabled module %s", d.Reason, want.module)
		}
		if got := d.Permission.Module().String(); got != want.module {
			t.Errorf("want Permission of module %s, got %s (%s)", want.module, d.Permission, got)
		}
	}
}

// TestCanTruthTable checks Can on every combination of granted permissions ×
// permission × resource × module set × org × platform role × override
// against plainRules.
func TestCanTruthTable(t *testing.T) {
	n := 0
	counts := map[outcome]int{}
	for _, gc := range grantedCases() {
		granted := codeSet(gc.codes)
		set := mustSet(t, gc.codes...)
		t.Run(gc.name, func(t *testing.T) {
			for _, c := range designCatalog {
				perm := mustPermission(t, c.code)
				t.Run(c.code, func(t *testing.T) {
					for _, rc := range resourceCases {
						for _, mc := range moduleCases() {
							enabled := codeSet(mc.enabled)
							modules := mustModules(t, mc.enabled...)
							for _, otherOrg := range []bool{false, true} {
								org, orgName := orgA, "same-org"
								if otherOrg {
									org, orgName = orgB, "other-org"
								}
								want := plainRules(t, granted, c.code, rc, enabled, otherOrg)
								base := policy.Can(policy.Principal{UserID: me, OrgID: orgA, Granted: set, Modules: modules}, perm, rc.resource(org))
								for _, pr := range platformRoles {
									for _, override := range []bool{false, true} {
										name := fmt.Sprintf("%s,%s,%s,%s,override=%v", rc.name, mc.name, orgName, pr, override)
										p := policy.Principal{
											UserID: me, OrgID: orgA, PlatformRole: pr,
											Granted: set, Modules: modules, Override: override,
										}
										n++
										counts[want.outcome]++
										t.Run(name, func(t *testing.T) {
											d := policy.Can(p, perm, rc.resource(org))
											checkDecision(t, want, d)
											// Platform roles act through Granted and Override,
											// which authz sets, never inside Can.
											if diff := cmp.Diff(base, d); diff != "" {
												t.Errorf("platform role %s, override=%v changed the decision (-USER +got):\n%s", pr, override, diff)
											}
										})
									}
								}
							}
						}
					}
				})
			}
		})
	}
	t.Logf("checked %d combinations: %d allow, %d hidden (other org), %d hidden (private), %d deny (missing permission), %d deny (module)",
		n, counts[allow], counts[hiddenOtherOrg], counts[hiddenPrivate], counts[denyMissing], counts[denyModule])
	// Every outcome must have been reached, or the table tests less than it claims.
	for o := allow; o <= denyModule; o++ {
		if counts[o] == 0 {
			t.Errorf("no combination reached %v", o)
		}
	}
}

// TestCanCases spells out the cases the design singles out, so a reader
// sees them without running the truth table.
func TestCanCases(t *testing.T) {
	type result struct {
		Allowed    bool
		Hidden     bool
		Permission string // on a deny
	}
	principal := func(codes ...string) policy.Principal {
		return policy.Principal{UserID: me, OrgID: orgA, Granted: mustSet(t, codes...), Modules: policy.AllModules}
	}
	owner := principal(designRoles[0].codes...)
	editor := principal(designRoles[2].codes...)
	viewer := principal(designRoles[3].codes...)
	superadminNoRole := principal()
	superadminNoRole.PlatformRole = policy.PlatformSuperadmin
	override := principal(designRoles[0].codes...)
	override.PlatformRole, override.Override = policy.PlatformSuperadmin, true
	ownerNoNotes := owner
	ownerNoNotes.Modules = mustModules(t, "core", "api_keys", "audit")

	tests := []struct {
		name string
		p    policy.Principal
		code string
		r    policy.Resource
		want result
	}{
		{"editor updates own ORG note", editor, "notes:update", policy.Note(orgA, me, false), result{Allowed: true}},
		{"editor updates own PRIVATE note", editor, "notes:update", policy.Note(orgA, me, true), result{Allowed: true}},
		{"editor updates another's ORG note: needs notes:manage", editor, "notes:update", policy.Note(orgA, other, false), result{Permission: "notes:manage"}},
		{"editor deletes another's ORG note: needs notes:manage", editor, "notes:delete", policy.Note(orgA, other, false), result{Permission: "notes:manage"}},
		{"editor reads another's ORG note", editor, "notes:read", policy.Note(orgA, other, false), result{Allowed: true}},
		{"editor reads another's PRIVATE note: hidden", editor, "notes:read", policy.Note(orgA, other, true), result{Hidden: true, Permission: "notes:read"}},
		{"owner updates another's ORG note", owner, "notes:update", policy.Note(orgA, other, false), result{Allowed: true, Permission: "notes:manage"}},
		{"owner reads another's PRIVATE note: hidden", owner, "notes:read", policy.Note(orgA, other, true), result{Hidden: true, Permission: "notes:read"}},
		{"owner manages another's PRIVATE note: hidden", owner, "notes:manage", policy.Note(orgA, other, true), result{Hidden: true, Permission: "notes:manage"}},
		{"owner acts in another org: hidden", owner, "org:update", policy.InOrg(orgB), result{Hidden: true, Permission: "org:update"}},
		{"owner reads own note in another org: hidden", owner, "notes:read", policy.Note(orgB, me, false), result{Hidden: true, Permission: "notes:read"}},
		{"owner reads notes with the notes module off", ownerNoNotes, "notes:read", policy.Note(orgA, me, false), result{Permission: "notes:read"}},
		{"viewer updates own note", viewer, "notes:update", policy.Note(orgA, me, false), result{Permission: "notes:update"}},
		{"viewer updates the org", viewer, "org:update", policy.InOrg(orgA), result{Permission: "org:update"}},
		{"SUPERADMIN without roles or override", superadminNoRole, "notes:read", policy.InOrg(orgA), result{Permission: "notes:read"}},
		{"SUPERADMIN override deletes the org", override, "org:delete", policy.InOrg(orgA), result{Allowed: true, Permission: "org:delete"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := policy.Can(tc.p, mustPermission(t, tc.code), tc.r)
			got := result{Allowed: d.Allowed, Hidden: d.Hidden, Permission: d.Permission.String()}
			want := tc.want
			if want.Permission == "" {
				want.Permission = tc.code
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Can (-want +got):\n%s\nreason: %q", diff, d.Reason)
			}
			if d.Reason == "" {
				t.Error("empty reason")
			}
		})
	}
}

func TestCanUnknownPermission(t *testing.T) {
	p := policy.Principal{UserID: me, OrgID: orgA, Granted: policy.All, Modules: policy.AllModules}
	for _, a := range []policy.Permission{policy.Permission(len(designCatalog)), 200, 255} {
		t.Run(fmt.Sprint(uint8(a)), func(t *testing.T) {
			d := policy.Can(p, a, policy.InOrg(orgA))
			if d.Allowed || d.Reason != policy.ReasonUnknown {
				t.Errorf("Can(%d) = %+v, want a deny with reason %q", a, d, policy.ReasonUnknown)
			}
		})
	}
}

// TestCanGrant: granted ⊆ held (by roles, modules aside) is allowed; any
// other permission is denied, naming it.
func TestCanGrant(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 0
	for _, gc := range grantedCases() {
		for _, mc := range moduleCases() {
			held := map[string]bool{} // what the roles give; modules do not enter
			for _, c := range gc.codes {
				held[c] = true
			}
			p := policy.Principal{
				UserID: me, OrgID: orgA,
				Granted: mustSet(t, gc.codes...), Modules: mustModules(t, mc.enabled...),
			}
			heldCodes := []string{}
			for c := range held {
				heldCodes = append(heldCodes, c)
			}
			t.Run(gc.name+","+mc.name, func(t *testing.T) {
				if d := policy.CanGrant(p, 0); !d.Allowed || d.Reason != policy.ReasonAllowed {
					t.Errorf("granting nothing: %+v", d)
				}
				if d := policy.CanGrant(p, mustSet(t, heldCodes...)); !d.Allowed || d.Reason != policy.ReasonAllowed {
					t.Errorf("granting everything held %v: %+v", heldCodes, d)
				}
				n += 2
				for _, c := range designCatalog {
					// One permission alone, and everything held plus it.
					for _, s := range [][]string{{c.code}, append(append([]string{}, heldCodes...), c.code)} {
						n++
						checkGrant(t, p, s, held)
					}
				}
				// Random subsets of the catalog.
				for range 200 {
					var s []string
					for _, c := range designCatalog {
						if rng.IntN(3) == 0 || (held[c.code] && rng.IntN(2) == 0) {
							s = append(s, c.code)
						}
					}
					n++
					checkGrant(t, p, s, held)
				}
			})
		}
	}
	t.Logf("checked %d grants", n)
}

func checkGrant(t *testing.T, p policy.Principal, codes []string, held map[string]bool) {
	t.Helper()
	var extra []string
	for _, c := range codes {
		if !held[c] {
			extra = append(extra, c)
		}
	}
	d := policy.CanGrant(p, mustSet(t, codes...))
	if len(extra) == 0 {
		if !d.Allowed || d.Reason != policy.ReasonAllowed {
			t.Errorf("CanGrant(%v) = %+v, want allowed", codes, d)
		}
		return
	}
	if d.Allowed || d.Hidden {
		t.Fatalf("CanGrant(%v) = %+v, want a deny naming one of %v", codes, d, extra)
	}
	if !codeSet(extra)[d.Permission.String()] {
		t.Errorf("CanGrant(%v) denied naming %s, want one of %v", codes, d.Permission, extra)
	}
	if !strings.Contains(d.Reason, d.Permission.String()) {
		t.Errorf("reason %q does not name %s", d.Reason, d.Permission)
	}
}

// TestCanGrantModules: a disabled module does not stop a holder granting
// its permissions (an organization without the audit module can still name
// a new owner); it only stops their use.
func TestCanGrantModules(t *testing.T) {
	for _, off := range designModules {
		t.Run("without-"+off, func(t *testing.T) {
			var on []string
			for _, m := range designModules {
				if m != off {
					on = append(on, m)
				}
			}
			owner := policy.Principal{UserID: me, OrgID: orgA, Granted: mustSet(t, designRoles[0].codes...), Modules: mustModules(t, on...)}
			if d := policy.CanGrant(owner, policy.All); !d.Allowed {
				t.Errorf("owner granting owner with %s off: %+v, want allowed", off, d)
			}
			for _, c := range designCatalog {
				if c.module != off {
					continue
				}
				if owner.Effective().Has(mustPermission(t, c.code)) {
					t.Errorf("%s is usable with its module %s off", c.code, off)
				}
			}
		})
	}
}

// TestHasPlatformRole is the full table: SUPERADMIN includes ADMIN, which
// includes USER.
func TestHasPlatformRole(t *testing.T) {
	rank := map[string]int{"USER": 0, "ADMIN": 1, "SUPERADMIN": 2}
	for _, have := range platformRoles {
		for _, need := range platformRoles {
			t.Run(fmt.Sprintf("have=%s,need=%s", have, need), func(t *testing.T) {
				d := policy.HasPlatformRole(have, need)
				want := rank[have.String()] >= rank[need.String()]
				if d.Allowed != want {
					t.Fatalf("HasPlatformRole(%s, %s) = %+v, want Allowed=%v", have, need, d, want)
				}
				if d.Hidden {
					t.Errorf("Hidden on a platform check: %+v", d)
				}
				if want && d.Reason != policy.ReasonAllowed {
					t.Errorf("allow with reason %q", d.Reason)
				}
				if !want && !strings.Contains(d.Reason, need.String()) {
					t.Errorf("deny reason %q does not name %s", d.Reason, need)
				}
			})
		}
	}
}

func TestHasPlatformRoleUnknownNeed(t *testing.T) {
	for _, have := range platformRoles {
		if d := policy.HasPlatformRole(have, policy.PlatformRole(len(platformRoles))); d.Allowed || d.Reason == "" {
			t.Errorf("HasPlatformRole(%s, unknown) = %+v, want a deny with a reason", have, d)
		}
	}
}
