package policy_test

import (
	"testing"

	"github.com/quirehq/quire/internal/policy"
)

// TestCanSetVisibility: only the author changes a note's visibility, and
// only if they may update it at all.
func TestCanSetVisibility(t *testing.T) {
	org, me, other := policy.ID{1}, policy.ID{2}, policy.ID{3}
	principal := func(s policy.Set) policy.Principal {
		return policy.Principal{UserID: me, OrgID: org, Granted: s, Modules: policy.AllModules}
	}
	editor := policy.SetOf(policy.NotesRead, policy.NotesUpdate)
	cases := []struct {
		name    string
		p       policy.Principal
		r       policy.Resource
		allowed bool
		reason  string
	}{
		{"author", principal(editor), policy.Note(org, me, false), true, policy.ReasonAllowed},
		{"author of a private note", principal(editor), policy.Note(org, me, true), true, policy.ReasonAllowed},
		{"manager of another's note", principal(policy.All), policy.Note(org, other, false), false, policy.ReasonNotAuthor},
		{"author without notes:update", principal(policy.SetOf(policy.NotesRead)), policy.Note(org, me, false), false, "none of your roles grants notes:update"},
		{"another organization", principal(policy.All), policy.Note(policy.ID{9}, me, false), false, policy.ReasonOtherOrg},
		{"notes module off", policy.Principal{UserID: me, OrgID: org, Granted: editor, Modules: policy.ModulesOf(policy.ModuleCore)},
			policy.Note(org, me, false), false, "the notes module is not enabled for this organization"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := policy.CanSetVisibility(tc.p, tc.r)
			if d.Allowed != tc.allowed || d.Reason != tc.reason {
				t.Errorf("CanSetVisibility = %+v, want allowed=%v reason %q", d, tc.allowed, tc.reason)
			}
		})
	}
}
