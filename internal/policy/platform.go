package policy

// Reasons of the platform administration decisions.
const (
	ReasonUnknownPlatformRole = "unknown platform role"
	ReasonOwnPlatformRole     = "nobody changes their own platform role"
	ReasonSuperadminRole      = "only a SUPERADMIN may grant or remove SUPERADMIN"
	ReasonSelfDeactivate      = "an administrator cannot deactivate themselves"
	ReasonSuperadminStatus    = "only a SUPERADMIN may deactivate or reactivate a SUPERADMIN"
)

// known reports whether every role is one the policy knows.
func known(roles ...PlatformRole) bool {
	for _, r := range roles {
		if int(r) >= len(platformNames) {
			return false
		}
	}
	return true
}

// CanSetPlatformRole decides whether actor, holding platform role actorRole,
// may change target's platform role from from to to. The checks run in this
// order: every role is known (fail closed); the actor is at least ADMIN;
// nobody changes their own role (no self-escalation, and no admin locking
// themselves out); and SUPERADMIN is granted or removed by a SUPERADMIN only.
// A change to the role already held is decided like any other: the caller
// treats an allowed no-op as such.
func CanSetPlatformRole(actor ID, actorRole PlatformRole, target ID, from, to PlatformRole) Decision {
	if !known(actorRole, from, to) {
		return Decision{Reason: ReasonUnknownPlatformRole}
	}
	if d := HasPlatformRole(actorRole, PlatformAdmin); !d.Allowed {
		return d
	}
	if actor == target {
		return Decision{Reason: ReasonOwnPlatformRole}
	}
	if (from == PlatformSuperadmin || to == PlatformSuperadmin) && actorRole != PlatformSuperadmin {
		return Decision{Reason: ReasonSuperadminRole}
	}
	return Decision{Allowed: true, Reason: ReasonAllowed}
}

// CanChangeUserStatus decides whether actor, holding platform role
// actorRole, may deactivate or reactivate target, who holds targetRole. The
// checks run in this order: every role is known (fail closed); the actor is
// at least ADMIN; nobody deactivates themselves; and only a SUPERADMIN
// deactivates or reactivates a SUPERADMIN.
func CanChangeUserStatus(actor ID, actorRole PlatformRole, target ID, targetRole PlatformRole) Decision {
	if !known(actorRole, targetRole) {
		return Decision{Reason: ReasonUnknownPlatformRole}
	}
	if d := HasPlatformRole(actorRole, PlatformAdmin); !d.Allowed {
		return d
	}
	if actor == target {
		return Decision{Reason: ReasonSelfDeactivate}
	}
	if targetRole == PlatformSuperadmin && actorRole != PlatformSuperadmin {
		return Decision{Reason: ReasonSuperadminStatus}
	}
	return Decision{Allowed: true, Reason: ReasonAllowed}
}
