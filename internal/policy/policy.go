// Package policy decides. Can(principal, action, resource) is the only place
// where an allow or a deny is made; it is pure (no context, no I/O, no clock),
// and every deny carries a reason a client developer can act on.
//
// The package holds the permission catalog and the built-in roles, the single
// source that migrations mirror into the database. It imports nothing but the
// standard library.
package policy

// ID is a UUID's 16 bytes; uuid.UUID converts to it for free.
type ID [16]byte

// Principal is who acts, where, holding what: the facts Can decides on. authz
// builds it from the database for each request; nothing here is trusted from a
// token.
type Principal struct {
	UserID   ID
	APIKeyID ID // zero unless the caller is an API key
	OrgID    ID // the active organization

	PlatformRole PlatformRole
	// Granted is the union of the caller's roles in OrgID (for an API key,
	// intersected with its scopes). Modules are applied by Can, last.
	Granted Set
	// Modules are the modules enabled for OrgID.
	Modules ModuleSet
	// Override marks a SUPERADMIN acting in an organization they are not a
	// member of: Granted is then every permission, and each act is audited
	// as an override.
	Override bool
}

// Effective returns the permissions p may use now: Granted restricted to the
// enabled modules. It is what myPermissions shows.
func (p Principal) Effective() Set { return p.Granted.Enabled(p.Modules) }

// Kind is the kind of a Resource.
type Kind uint8

// Resource kinds. KindOrg stands for the organization itself and anything in
// it without object rules.
const (
	KindOrg Kind = iota
	KindNote
)

// Resource is what an action is on. For KindNote, OwnerID is the author.
type Resource struct {
	Kind    Kind
	OrgID   ID
	OwnerID ID
	Private bool
}

// InOrg returns the organization itself as a resource.
func InOrg(org ID) Resource { return Resource{Kind: KindOrg, OrgID: org} }

// Note returns a note of org written by author.
func Note(org, author ID, private bool) Resource {
	return Resource{Kind: KindNote, OrgID: org, OwnerID: author, Private: private}
}

// Decision is Can's answer. On a deny, Reason says why and Permission names
// the permission at issue; Hidden means the caller may not learn that the
// resource exists, so the service answers NOT_FOUND rather than FORBIDDEN.
type Decision struct {
	Allowed    bool
	Hidden     bool
	Permission Permission
	Reason     string
}

// Reasons. Deny reasons that name a permission or module are built once, so
// Can never allocates.
const (
	ReasonAllowed      = "allowed"
	ReasonOtherOrg     = "the resource belongs to another organization"
	ReasonPrivateNote  = "the note is private to its author"
	ReasonUnknown      = "unknown action"
	ReasonNotOwnerNote = "changing another member's note requires notes:manage"
	ReasonNotAuthor    = "only a note's author may change its visibility"
)

var (
	reasonMissing [numPermissions]string
	reasonModule  [numModules]string
	reasonGrant   [numPermissions]string
)

func init() {
	for p := range numPermissions {
		reasonMissing[p] = "none of your roles grants " + catalog[p].code
		reasonGrant[p] = "you cannot grant " + catalog[p].code + ", which you do not hold"
	}
	for m := range numModules {
		reasonModule[m] = "the " + moduleNames[m] + " module is not enabled for this organization"
	}
}

// Can decides whether p may perform action a on r. The checks run in this
// order: the resource is in p's organization; object rules that hide a
// resource (another member's PRIVATE note); the permission itself; object
// rules on change (another member's note needs notes:manage); and, last, the
// module the permission belongs to.
func Can(p Principal, a Permission, r Resource) Decision {
	if a >= numPermissions {
		return Decision{Permission: a, Reason: ReasonUnknown}
	}
	if r.OrgID != p.OrgID {
		return Decision{Hidden: true, Permission: a, Reason: ReasonOtherOrg}
	}
	own := r.OwnerID == p.UserID
	if r.Kind == KindNote && r.Private && !own {
		return Decision{Hidden: true, Permission: a, Reason: ReasonPrivateNote}
	}
	if !p.Granted.Has(a) {
		return Decision{Permission: a, Reason: reasonMissing[a]}
	}
	if r.Kind == KindNote && !own && (a == NotesUpdate || a == NotesDelete) {
		if !p.Granted.Has(NotesManage) {
			return Decision{Permission: NotesManage, Reason: ReasonNotOwnerNote}
		}
		a = NotesManage // its module is the one that must be enabled
	}
	if m := catalog[a].module; !p.Modules.Has(m) {
		return Decision{Permission: a, Reason: reasonModule[m]}
	}
	return Decision{Allowed: true, Permission: a, Reason: ReasonAllowed}
}

// CanSetVisibility decides whether p may change the visibility of note r:
// making a note PRIVATE hides it from everyone but its author, so only the
// author may, whatever else they hold; the update itself must be allowed too.
func CanSetVisibility(p Principal, r Resource) Decision {
	if d := Can(p, NotesUpdate, r); !d.Allowed {
		return d
	}
	if r.Kind != KindNote || r.OwnerID != p.UserID {
		return Decision{Permission: NotesUpdate, Reason: ReasonNotAuthor}
	}
	return Decision{Allowed: true, Permission: NotesUpdate, Reason: ReasonAllowed}
}

// CanGrant decides whether p may hand out every permission of s, by role
// change, custom role, invitation or API key: nobody grants what their roles
// do not give them. Modules do not enter: they gate the use of permissions,
// not their holding, so an organization with a module switched off can still
// name a new owner — who, like the granter, can use that module's
// permissions only once it is on.
func CanGrant(p Principal, s Set) Decision {
	if s&^All != 0 { // bits outside the catalog: fail closed
		return Decision{Reason: ReasonUnknown}
	}
	held := p.Granted
	for q := range numPermissions {
		if s.Has(q) && !held.Has(q) {
			return Decision{Permission: q, Reason: reasonGrant[q]}
		}
	}
	return Decision{Allowed: true, Reason: ReasonAllowed}
}

var reasonPlatform = [...]string{
	PlatformUser:       "requires a signed-in user",
	PlatformAdmin:      "requires the ADMIN platform role",
	PlatformSuperadmin: "requires the SUPERADMIN platform role",
}

// HasPlatformRole decides whether a user with platform role have may use an
// operation that needs platform role need. Roles are ordered: SUPERADMIN
// includes ADMIN, which includes USER.
func HasPlatformRole(have, need PlatformRole) Decision {
	if int(need) >= len(reasonPlatform) || int(have) >= len(reasonPlatform) {
		return Decision{Reason: ReasonUnknown} // fail closed on a role we do not know
	}
	if have >= need {
		return Decision{Allowed: true, Reason: ReasonAllowed}
	}
	return Decision{Reason: reasonPlatform[need]}
}
