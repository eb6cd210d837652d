package policy_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/quirehq/quire/internal/policy"
)

// The platform administration rules of the issue ("Platform
// administration") and DESIGN.md ("No escalation"), written out a second
// time as plain data: roles by name, reasons as the client reads them.

// platformCases are the platform roles by name, with two values the policy
// does not know.
var platformCases = []struct {
	name string
	role policy.PlatformRole
}{
	{"USER", policy.PlatformUser},
	{"ADMIN", policy.PlatformAdmin},
	{"SUPERADMIN", policy.PlatformSuperadmin},
	{"unknown(3)", policy.PlatformRole(3)},
	{"unknown(255)", policy.PlatformRole(255)},
}

func unknownRole(name string) bool {
	return name != "USER" && name != "ADMIN" && name != "SUPERADMIN"
}

type platformWant struct {
	Allowed bool
	Hidden  bool
	Reason  string
}

// plainSetRole states who may change a platform role from from to to.
func plainSetRole(actor, from, to string, self bool) platformWant {
	switch {
	case unknownRole(actor) || unknownRole(from) || unknownRole(to):
		return platformWant{Reason: "unknown platform role"}
	case actor == "USER":
		return platformWant{Reason: "requires the ADMIN platform role"}
	case self:
		return platformWant{Reason: "nobody changes their own platform role"}
	case (from == "SUPERADMIN" || to == "SUPERADMIN") && actor != "SUPERADMIN":
		return platformWant{Reason: "only a SUPERADMIN may grant or remove SUPERADMIN"}
	}
	return platformWant{Allowed: true, Reason: "allowed"}
}

// plainChangeStatus states who may deactivate or reactivate a user.
func plainChangeStatus(actor, target string, self bool) platformWant {
	switch {
	case unknownRole(actor) || unknownRole(target):
		return platformWant{Reason: "unknown platform role"}
	case actor == "USER":
		return platformWant{Reason: "requires the ADMIN platform role"}
	case self:
		return platformWant{Reason: "an administrator cannot deactivate themselves"}
	case target == "SUPERADMIN" && actor != "SUPERADMIN":
		return platformWant{Reason: "only a SUPERADMIN may deactivate or reactivate a SUPERADMIN"}
	}
	return platformWant{Allowed: true, Reason: "allowed"}
}

func gotPlatform(d policy.Decision) platformWant {
	return platformWant{Allowed: d.Allowed, Hidden: d.Hidden, Reason: d.Reason}
}

// targets are the two relations of actor and target: the same user or not.
var targets = []struct {
	name   string
	target policy.ID
	self   bool
}{{"self", me, true}, {"other", other, false}}

// TestCanSetPlatformRoleTruthTable checks every actor role × from × to ×
// self/other against plainSetRole.
func TestCanSetPlatformRoleTruthTable(t *testing.T) {
	allowed := 0
	for _, actor := range platformCases {
		for _, from := range platformCases {
			for _, to := range platformCases {
				for _, tg := range targets {
					name := fmt.Sprintf("%s/%s->%s/%s", actor.name, from.name, to.name, tg.name)
					t.Run(name, func(t *testing.T) {
						want := plainSetRole(actor.name, from.name, to.name, tg.self)
						got := gotPlatform(policy.CanSetPlatformRole(me, actor.role, tg.target, from.role, to.role))
						if diff := cmp.Diff(want, got); diff != "" {
							t.Errorf("CanSetPlatformRole (-want +got):\n%s", diff)
						}
					})
					if plainSetRole(actor.name, from.name, to.name, tg.self).Allowed {
						allowed++
					}
				}
			}
		}
	}
	// ADMIN: USER<->ADMIN, 4 pairs; SUPERADMIN: any of 3×3. Others only.
	if allowed != 4+9 {
		t.Errorf("the table allows %d changes, want 13: the plain rules have drifted", allowed)
	}
}

// TestCanChangeUserStatusTruthTable checks every actor role × target role ×
// self/other against plainChangeStatus.
func TestCanChangeUserStatusTruthTable(t *testing.T) {
	for _, actor := range platformCases {
		for _, target := range platformCases {
			for _, tg := range targets {
				t.Run(fmt.Sprintf("%s/%s/%s", actor.name, target.name, tg.name), func(t *testing.T) {
					want := plainChangeStatus(actor.name, target.name, tg.self)
					got := gotPlatform(policy.CanChangeUserStatus(me, actor.role, tg.target, target.role))
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("CanChangeUserStatus (-want +got):\n%s", diff)
					}
				})
			}
		}
	}
}

// TestPlatformRoleNames ties the names of the plain rules to the roles.
func TestPlatformRoleNames(t *testing.T) {
	for _, c := range platformCases {
		role, ok := policy.ParsePlatformRole(c.name)
		if ok != !unknownRole(c.name) || (ok && role != c.role) {
			t.Errorf("ParsePlatformRole(%q) = %v, %v; want %v, %v", c.name, role, ok, c.role, !unknownRole(c.name))
		}
	}
}

// TestPlatformDecisionsDoNotAllocate: the decisions are plain comparisons.
func TestPlatformDecisionsDoNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		policy.CanSetPlatformRole(me, policy.PlatformSuperadmin, other, policy.PlatformSuperadmin, policy.PlatformAdmin)
		policy.CanSetPlatformRole(me, policy.PlatformAdmin, other, policy.PlatformUser, policy.PlatformSuperadmin)
		policy.CanChangeUserStatus(me, policy.PlatformAdmin, other, policy.PlatformSuperadmin)
	})
	if allocs != 0 {
		t.Errorf("platform decisions allocate %v times per run, want 0", allocs)
	}
}
