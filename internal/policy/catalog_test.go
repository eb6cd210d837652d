package policy_test

import (
	"bytes"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/quirehq/quire/internal/policy"
)

func TestCatalogMatchesDesign(t *testing.T) {
	type entry struct{ Code, Module string }
	var want, got []entry
	for _, c := range designCatalog {
		want = append(want, entry{c.code, c.module})
	}
	for _, info := range policy.Catalog() {
		got = append(got, entry{info.Code, info.Module})
		if info.Description == "" {
			t.Errorf("%s has no description", info.Code)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Catalog() (-DESIGN.md +got):\n%s", diff)
	}
	if diff := cmp.Diff(designModules, policy.Modules()); diff != "" {
		t.Errorf("Modules() (-DESIGN.md +got):\n%s", diff)
	}
}

func TestCatalogCodesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, info := range policy.Catalog() {
		if seen[info.Code] {
			t.Errorf("code %q appears twice", info.Code)
		}
		seen[info.Code] = true
	}
}

func TestCatalogModulesKnown(t *testing.T) {
	for _, info := range policy.Catalog() {
		m, ok := policy.ParseModule(info.Module)
		if !ok {
			t.Errorf("%s: unknown module %q", info.Code, info.Module)
			continue
		}
		p := mustPermission(t, info.Code)
		if p.Module() != m {
			t.Errorf("%s: Module() = %s, Catalog says %s", info.Code, p.Module(), info.Module)
		}
	}
}

func TestPermissionRoundTrip(t *testing.T) {
	for _, info := range policy.Catalog() {
		p, ok := policy.ParsePermission(info.Code)
		if !ok {
			t.Errorf("ParsePermission(%q) failed", info.Code)
			continue
		}
		if got := p.String(); got != info.Code {
			t.Errorf("ParsePermission(%q).String() = %q", info.Code, got)
		}
	}
	for _, bad := range []string{"", "notes", "notes:", "Notes:Read", " notes:read", "notes:read ", "notes:fly", "unknown"} {
		if p, ok := policy.ParsePermission(bad); ok {
			t.Errorf("ParsePermission(%q) = %s, want failure", bad, p)
		}
	}
	if got := policy.Permission(len(designCatalog)).String(); got != "unknown" {
		t.Errorf("String() past the catalog = %q, want \"unknown\"", got)
	}
}

func TestModuleRoundTrip(t *testing.T) {
	for _, name := range designModules {
		m, ok := policy.ParseModule(name)
		if !ok || m.String() != name {
			t.Errorf("ParseModule(%q) = %v, %v", name, m, ok)
		}
	}
	for _, bad := range []string{"", "Core", "apikeys", "billing"} {
		if m, ok := policy.ParseModule(bad); ok {
			t.Errorf("ParseModule(%q) = %s, want failure", bad, m)
		}
	}
	if got := policy.Module(len(designModules)).String(); got != "unknown" {
		t.Errorf("String() past the modules = %q, want \"unknown\"", got)
	}
}

func TestParseSet(t *testing.T) {
	tests := []struct {
		name        string
		codes       []string
		wantCodes   []string
		wantUnknown string
		wantOK      bool
	}{
		{"nil", nil, []string{}, "", true},
		{"one", []string{"notes:read"}, []string{"notes:read"}, "", true},
		{"duplicates", []string{"audit:read", "audit:read"}, []string{"audit:read"}, "", true},
		{"unknown", []string{"notes:fly"}, nil, "notes:fly", false},
		{"unknown among known", []string{"notes:read", "notes:fly", "org:update"}, nil, "notes:fly", false},
		{"first of two unknown", []string{"a:b", "notes:read", "c:d"}, nil, "a:b", false},
		{"wrong case", []string{"NOTES:READ"}, nil, "NOTES:READ", false},
		{"empty code", []string{""}, nil, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, unknown, ok := policy.ParseSet(tc.codes)
			if ok != tc.wantOK || unknown != tc.wantUnknown {
				t.Fatalf("ParseSet(%q) = _, %q, %v; want _, %q, %v", tc.codes, unknown, ok, tc.wantUnknown, tc.wantOK)
			}
			if !ok {
				if s != 0 {
					t.Errorf("ParseSet(%q) returned set %v on failure, want empty", tc.codes, s.Codes())
				}
				return
			}
			if diff := cmp.Diff(tc.wantCodes, s.Codes()); diff != "" {
				t.Errorf("codes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuiltInRoles(t *testing.T) {
	type role struct {
		Key   string
		Codes []string
	}
	var want, got []role
	for _, r := range designRoles {
		codes := slices.Clone(r.codes)
		sort.Strings(codes)
		want = append(want, role{r.key, codes})
	}
	for _, r := range policy.BuiltInRoles() {
		got = append(got, role{r.Key, r.Permissions.Codes()})
		if r.Name == "" {
			t.Errorf("role %s has no name", r.Key)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("BuiltInRoles() (-DESIGN.md +got):\n%s", diff)
	}
	// owner holds every permission of the catalog, and All is that set.
	all := []string{}
	for _, c := range designCatalog {
		all = append(all, c.code)
	}
	if owner := policy.BuiltInRoles()[0]; owner.Permissions != mustSet(t, all...) || owner.Permissions != policy.All {
		t.Errorf("owner = %v, want every permission", owner.Permissions.Codes())
	}
}

func TestBuiltInRolesImmutable(t *testing.T) {
	policy.BuiltInRoles()[0].Permissions = 0
	if policy.BuiltInRoles()[0].Permissions != policy.All {
		t.Error("changing the result of BuiltInRoles changed the built-in roles")
	}
}

func TestSetOperations(t *testing.T) {
	read, update := mustPermission(t, "notes:read"), mustPermission(t, "notes:update")
	s := policy.SetOf(read, update)
	if !s.Has(read) || !s.Has(update) || s.Has(mustPermission(t, "notes:manage")) {
		t.Errorf("SetOf/Has: %v", s.Codes())
	}
	if s != mustSet(t, "notes:update", "notes:read") {
		t.Errorf("SetOf and ParseSet disagree")
	}
	if !s.Contains(policy.SetOf(read)) || !s.Contains(0) || !s.Contains(s) {
		t.Error("Contains misses a subset")
	}
	if s.Contains(policy.SetOf(read, mustPermission(t, "audit:read"))) {
		t.Error("Contains accepts a superset")
	}
	if !policy.All.Contains(s) || policy.Set(0).Contains(s) {
		t.Error("Contains on All or empty")
	}
}

func TestSetCodesSorted(t *testing.T) {
	if got := policy.Set(0).Codes(); got == nil || len(got) != 0 {
		// A nil slice would reach GraphQL as null for a non-null list.
		t.Errorf("empty Codes() = %#v, want an empty, non-nil slice", got)
	}
	sets := []policy.Set{policy.All}
	for _, r := range designRoles {
		sets = append(sets, mustSet(t, r.codes...))
	}
	for i := range len(designCatalog) {
		sets = append(sets, policy.All&^policy.SetOf(policy.Permission(i)))
	}
	for _, s := range sets {
		codes := s.Codes()
		if !sort.StringsAreSorted(codes) {
			t.Errorf("Codes() not sorted: %v", codes)
		}
		if back := mustSet(t, codes...); back != s {
			t.Errorf("ParseSet(Codes()) = %v, want %v", back.Codes(), codes)
		}
	}
}

// TestEffective: Granted restricted to the enabled modules, for every role and
// every one of the 16 module subsets.
func TestEffective(t *testing.T) {
	for _, gc := range grantedCases() {
		for mask := range 1 << len(designModules) {
			var on []string
			for i, m := range designModules {
				if mask&(1<<i) != 0 {
					on = append(on, m)
				}
			}
			enabled := codeSet(on)
			want := []string{}
			for _, c := range gc.codes {
				if enabled[moduleOf(t, c)] {
					want = append(want, c)
				}
			}
			sort.Strings(want)
			p := policy.Principal{Granted: mustSet(t, gc.codes...), Modules: mustModules(t, on...)}
			if diff := cmp.Diff(want, p.Effective().Codes()); diff != "" {
				t.Errorf("%s with modules %v: Effective (-want +got):\n%s", gc.name, on, diff)
			}
			if diff := cmp.Diff(on, p.Modules.Names(), cmp.Transformer("nilToEmpty", func(s []string) []string {
				if s == nil {
					return []string{}
				}
				return s
			})); diff != "" {
				t.Errorf("Names() (-want +got):\n%s", diff)
			}
		}
	}
}

func TestModuleSets(t *testing.T) {
	if policy.AllModules != mustModules(t, designModules...) {
		t.Errorf("AllModules = %v, want %v", policy.AllModules.Names(), designModules)
	}
	// A new organization starts with every module: nothing is lost to Effective.
	if got := (policy.Principal{Granted: policy.All, Modules: policy.AllModules}).Effective(); got != policy.All {
		t.Errorf("Effective with every module = %v", got.Codes())
	}
	if got := (policy.Principal{Granted: policy.All}).Effective(); got != 0 {
		t.Errorf("Effective with no module = %v, want none", got.Codes())
	}
}

func TestPlatformRoleRoundTrip(t *testing.T) {
	for _, name := range []string{"USER", "ADMIN", "SUPERADMIN"} {
		t.Run(name, func(t *testing.T) {
			r, ok := policy.ParsePlatformRole(name)
			if !ok || r.String() != name {
				t.Fatalf("ParsePlatformRole(%q) = %v, %v", name, r, ok)
			}
			var buf bytes.Buffer
			r.MarshalGQL(&buf)
			if want := strconv.Quote(name); buf.String() != want {
				t.Errorf("MarshalGQL = %s, want %s", buf.String(), want)
			}
			unquoted, err := strconv.Unquote(buf.String())
			if err != nil {
				t.Fatalf("MarshalGQL wrote %s, not a quoted string: %v", buf.String(), err)
			}
			var back policy.PlatformRole = 7
			if err := back.UnmarshalGQL(unquoted); err != nil || back != r {
				t.Errorf("UnmarshalGQL(%q) = %v, %v; want %v", unquoted, back, err, r)
			}
		})
	}
	if policy.PlatformUser >= policy.PlatformAdmin || policy.PlatformAdmin >= policy.PlatformSuperadmin {
		t.Error("platform roles are not in increasing power")
	}
	for _, bad := range []string{"", "user", "Admin", "ROOT", " USER"} {
		if r, ok := policy.ParsePlatformRole(bad); ok {
			t.Errorf("ParsePlatformRole(%q) = %s, want failure", bad, r)
		}
	}
	if got := policy.PlatformRole(3).String(); got != "unknown" {
		t.Errorf("String() of an unknown role = %q", got)
	}
	for _, bad := range []any{"ROOT", "admin", 1, nil, []byte("ADMIN")} {
		r := policy.PlatformAdmin
		if err := r.UnmarshalGQL(bad); err == nil {
			t.Errorf("UnmarshalGQL(%#v) accepted it as %s", bad, r)
		} else if r != policy.PlatformAdmin {
			t.Errorf("UnmarshalGQL(%#v) failed but changed the role to %s", bad, r)
		}
	}
}
