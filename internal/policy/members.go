package policy

// Reasons of the membership decisions the services make around
// CanManageMember and CanGrant.
const (
	ReasonOwnRoles      = "nobody changes their own roles: leave the organization instead"
	ReasonRemoveSelf    = "use leaveOrganization to leave"
	ReasonKeyLeave      = "an API key cannot leave the organization for its creator"
	ReasonBuiltInChange = "built-in roles cannot be changed"
	ReasonBuiltInDelete = "built-in roles cannot be deleted"
)

// reasonManage names, per permission, why a member holding it is out of
// reach; built once so CanManageMember never allocates.
var reasonManage [numPermissions]string

func init() {
	for p := range numPermissions {
		reasonManage[p] = "the member holds " + catalog[p].code + ", which you do not hold"
	}
}

// CanManageMember decides whether p may change the roles of, or remove, a
// member whose roles grant target: only if everything the member's roles
// give is something p's roles give too, so an admin cannot demote or remove
// an owner.
// Both sides are compared by what their roles give, modules aside, as in
// CanGrant. A deny names the first permission, in catalog order,
// that the member holds and p lacks. Bits outside the catalog fail closed.
//
// It does not decide the caller's own membership: changing one's own roles
// and removing oneself are refused before it is asked (ReasonOwnRoles,
// ReasonRemoveSelf).
func CanManageMember(p Principal, target Set) Decision {
	if target&^All != 0 {
		return Decision{Reason: ReasonUnknown}
	}
	held, theirs := p.Granted, target
	for q := range numPermissions {
		if theirs.Has(q) && !held.Has(q) {
			return Decision{Permission: q, Reason: reasonManage[q]}
		}
	}
	return Decision{Allowed: true, Reason: ReasonAllowed}
}

// CanLeave decides whether p may leave its organization. A member may
// always try (the last owner is held by the database); an API key may not,
// since a key of any scope could otherwise end its creator's membership.
func CanLeave(p Principal) Decision {
	if p.APIKeyID != (ID{}) {
		return Decision{Reason: ReasonKeyLeave}
	}
	return Decision{Allowed: true, Reason: ReasonAllowed}
}
