package policy_test

import (
	"testing"

	"github.com/quirehq/quire/internal/policy"
)

// TestFailClosedOnUnknownValues: values outside what the policy knows are
// denied, never allowed by accident of arithmetic.
func TestFailClosedOnUnknownValues(t *testing.T) {
	owner := policy.Principal{Granted: policy.All, Modules: policy.AllModules}
	cases := []struct {
		name string
		d    policy.Decision
	}{
		{"unknown held platform role", policy.HasPlatformRole(policy.PlatformRole(3), policy.PlatformSuperadmin)},
		{"unknown needed platform role", policy.HasPlatformRole(policy.PlatformSuperadmin, policy.PlatformRole(9))},
		{"grant outside the catalog", policy.CanGrant(owner, policy.Set(1<<20))},
		{"grant of the top bit", policy.CanGrant(owner, policy.Set(1<<31)|policy.SetOf(policy.NotesRead))},
		{"unknown action", policy.Can(owner, policy.Permission(200), policy.InOrg(owner.OrgID))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.d.Allowed || tc.d.Reason == "" {
				t.Errorf("decision %+v, want a deny with a reason", tc.d)
			}
		})
	}
}
