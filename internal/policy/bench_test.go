package policy_test

import (
	"testing"

	"github.com/quirehq/quire/internal/policy"
)

// canBenchCases are a typical allowed, denied and hidden check.
func canBenchCases(t testing.TB) []struct {
	name string
	p    policy.Principal
	a    policy.Permission
	r    policy.Resource
	want policy.Decision
} {
	editor := policy.Principal{UserID: me, OrgID: orgA, Granted: mustSet(t, designRoles[2].codes...), Modules: policy.AllModules}
	viewer := editor
	viewer.Granted = mustSet(t, designRoles[3].codes...)
	update := mustPermission(t, "notes:update")
	return []struct {
		name string
		p    policy.Principal
		a    policy.Permission
		r    policy.Resource
		want policy.Decision
	}{
		{"allowed/editor-updates-own-ORG-note", editor, update, policy.Note(orgA, me, false), policy.Decision{Allowed: true}},
		{"denied/viewer-updates-others-note", viewer, update, policy.Note(orgA, other, false), policy.Decision{}},
		{"hidden/editor-reads-others-PRIVATE-note", editor, mustPermission(t, "notes:read"), policy.Note(orgA, other, true), policy.Decision{Hidden: true}},
	}
}

func BenchmarkCan(b *testing.B) {
	for _, bc := range canBenchCases(b) {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var d policy.Decision
			for b.Loop() {
				d = policy.Can(bc.p, bc.a, bc.r)
			}
			if d.Allowed != bc.want.Allowed || d.Hidden != bc.want.Hidden {
				b.Fatalf("Can = %+v, want Allowed=%v Hidden=%v", d, bc.want.Allowed, bc.want.Hidden)
			}
		})
	}
}

func BenchmarkCanGrant(b *testing.B) {
	p := policy.Principal{UserID: me, OrgID: orgA, Granted: policy.All, Modules: policy.AllModules}
	s := mustSet(b, designRoles[1].codes...)
	b.ReportAllocs()
	for b.Loop() {
		policy.CanGrant(p, s)
	}
}

// TestCanDoesNotAllocate: Can runs on every field of every request, so a
// decision, deny reasons included, must cost no allocation.
func TestCanDoesNotAllocate(t *testing.T) {
	for _, bc := range canBenchCases(t) {
		t.Run(bc.name, func(t *testing.T) {
			var d policy.Decision
			allocs := testing.AllocsPerRun(100, func() {
				d = policy.Can(bc.p, bc.a, bc.r)
			})
			if allocs != 0 {
				t.Errorf("Can allocates %v times per call, want 0", allocs)
			}
			if d.Allowed != bc.want.Allowed || d.Hidden != bc.want.Hidden {
				t.Errorf("Can = %+v, want Allowed=%v Hidden=%v", d, bc.want.Allowed, bc.want.Hidden)
			}
		})
	}
}
