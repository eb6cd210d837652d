package policy

import (
	"fmt"
	"io"
	"sort"
	"strconv"
)

// Permission is one code of the permission catalog. Its zero value is
// OrgUpdate; use ParsePermission to read one from a client.
type Permission uint8

// The permission catalog of DESIGN.md. The order is the bit order of Set and
// never leaks: clients see codes.
const (
	OrgUpdate Permission = iota
	OrgDelete
	OrgTransfer
	MembersRead
	MembersInvite
	MembersManage
	MembersRemove
	RolesManage
	NotesRead
	NotesCreate
	NotesUpdate
	NotesDelete
	NotesManage
	APIKeysRead
	APIKeysManage
	AuditRead

	numPermissions
)

// Module is a unit of subscription: an organization has a set of enabled
// modules, and a permission of a disabled module is denied.
type Module uint8

// The modules of DESIGN.md.
const (
	ModuleCore Module = iota
	ModuleNotes
	ModuleAPIKeys
	ModuleAudit

	numModules
)

var moduleNames = [numModules]string{"core", "notes", "api_keys", "audit"}

type permissionDef struct {
	code        string
	module      Module
	description string
}

var catalog = [numPermissions]permissionDef{
	OrgUpdate:     {"org:update", ModuleCore, "Rename the organization and change its settings"},
	OrgDelete:     {"org:delete", ModuleCore, "Delete the organization and everything in it"},
	OrgTransfer:   {"org:transfer", ModuleCore, "Transfer ownership of the organization"},
	MembersRead:   {"members:read", ModuleCore, "See members and roles"},
	MembersInvite: {"members:invite", ModuleCore, "Invite people and manage invitations"},
	MembersManage: {"members:manage", ModuleCore, "Change the roles of members"},
	MembersRemove: {"members:remove", ModuleCore, "Remove members"},
	RolesManage:   {"roles:manage", ModuleCore, "Create, change and delete custom roles"},
	NotesRead:     {"notes:read", ModuleNotes, "Read notes"},
	NotesCreate:   {"notes:create", ModuleNotes, "Create notes"},
	NotesUpdate:   {"notes:update", ModuleNotes, "Edit one's own notes"},
	NotesDelete:   {"notes:delete", ModuleNotes, "Trash and restore one's own notes"},
	NotesManage:   {"notes:manage", ModuleNotes, "Edit, trash and restore anyone's notes"},
	APIKeysRead:   {"apikeys:read", ModuleAPIKeys, "See API keys"},
	APIKeysManage: {"apikeys:manage", ModuleAPIKeys, "Create and revoke API keys"},
	AuditRead:     {"audit:read", ModuleAudit, "Read the audit log"},
}

var byCode = func() map[string]Permission {
	m := make(map[string]Permission, numPermissions)
	for p := range numPermissions {
		m[catalog[p].code] = p
	}
	return m
}()

// String returns the permission's code, e.g. "notes:read".
func (p Permission) String() string {
	if p >= numPermissions {
		return "unknown"
	}
	return catalog[p].code
}

// Module returns the module the permission belongs to.
func (p Permission) Module() Module {
	if p >= numPermissions {
		return numModules // no module: never enabled
	}
	return catalog[p].module
}

// ParsePermission returns the permission with the given code.
func ParsePermission(code string) (Permission, bool) {
	p, ok := byCode[code]
	return p, ok
}

// String returns the module's name, e.g. "api_keys".
func (m Module) String() string {
	if m >= numModules {
		return "unknown"
	}
	return moduleNames[m]
}

// ParseModule returns the module with the given name.
func ParseModule(name string) (Module, bool) {
	for m, n := range moduleNames {
		if n == name {
			return Module(m), true
		}
	}
	return 0, false
}

// PermissionInfo describes one permission of the catalog.
type PermissionInfo struct {
	Code        string
	Module      string
	Description string
}

// Catalog returns every permission, in catalog order.
func Catalog() []PermissionInfo {
	out := make([]PermissionInfo, 0, numPermissions)
	for p := range numPermissions {
		d := catalog[p]
		out = append(out, PermissionInfo{Code: d.code, Module: d.module.String(), Description: d.description})
	}
	return out
}

// Modules returns every module name, in catalog order.
func Modules() []string { return append([]string(nil), moduleNames[:]...) }

// Set is a set of permissions.
type Set uint32

// All holds every permission of the catalog.
const All Set = 1<<numPermissions - 1

// SetOf returns the set holding ps.
func SetOf(ps ...Permission) Set {
	var s Set
	for _, p := range ps {
		s |= 1 << p
	}
	return s
}

// Has reports whether s holds p.
func (s Set) Has(p Permission) bool { return s&(1<<p) != 0 }

// Contains reports whether every permission of o is in s.
func (s Set) Contains(o Set) bool { return o&^s == 0 }

// Codes returns the codes of the permissions in s, sorted.
func (s Set) Codes() []string {
	out := []string{}
	for p := range numPermissions {
		if s.Has(p) {
			out = append(out, catalog[p].code)
		}
	}
	sort.Strings(out)
	return out
}

// ParseSet reads a set from codes. It returns the first unknown code, if any.
func ParseSet(codes []string) (Set, string, bool) {
	var s Set
	for _, c := range codes {
		p, ok := ParsePermission(c)
		if !ok {
			return 0, c, false
		}
		s |= 1 << p
	}
	return s, "", true
}

// ModuleSet is a set of modules.
type ModuleSet uint8

// AllModules holds every module; a new organization starts with it.
const AllModules ModuleSet = 1<<numModules - 1

// ModulesOf returns the set holding ms.
func ModulesOf(ms ...Module) ModuleSet {
	var s ModuleSet
	for _, m := range ms {
		s |= 1 << m
	}
	return s
}

// Has reports whether s holds m.
func (s ModuleSet) Has(m Module) bool { return s&(1<<m) != 0 }

// Names returns the names of the modules in s, in catalog order.
func (s ModuleSet) Names() []string {
	out := []string{}
	for m := range numModules {
		if s.Has(m) {
			out = append(out, moduleNames[m])
		}
	}
	return out
}

// Enabled restricts s to the permissions whose module is in ms.
func (s Set) Enabled(ms ModuleSet) Set {
	var out Set
	for p := range numPermissions {
		if s.Has(p) && ms.Has(catalog[p].module) {
			out |= 1 << p
		}
	}
	return out
}

// BuiltInRole is one of the immutable roles every organization has.
type BuiltInRole struct {
	Key         string
	Name        string
	Permissions Set
}

// BuiltInRoles returns owner, admin, editor and viewer.
func BuiltInRoles() []BuiltInRole {
	return []BuiltInRole{
		{Key: "owner", Name: "Owner", Permissions: All},
		{Key: "admin", Name: "Admin", Permissions: All &^ SetOf(OrgDelete, OrgTransfer)},
		{Key: "editor", Name: "Editor", Permissions: SetOf(NotesRead, NotesCreate, NotesUpdate, NotesDelete, MembersRead)},
		{Key: "viewer", Name: "Viewer", Permissions: SetOf(NotesRead, MembersRead)},
	}
}

// PlatformRole is a user's role on the platform, outside any organization.
type PlatformRole uint8

// Platform roles, in increasing power.
const (
	PlatformUser PlatformRole = iota
	PlatformAdmin
	PlatformSuperadmin
)

var platformNames = [...]string{"USER", "ADMIN", "SUPERADMIN"}

// String returns USER, ADMIN or SUPERADMIN.
func (r PlatformRole) String() string {
	if int(r) >= len(platformNames) {
		return "unknown"
	}
	return platformNames[r]
}

// ParsePlatformRole reads USER, ADMIN or SUPERADMIN.
func ParsePlatformRole(s string) (PlatformRole, bool) {
	for i, n := range platformNames {
		if n == s {
			return PlatformRole(i), true
		}
	}
	return 0, false
}

// MarshalGQL writes the role as a GraphQL enum value.
func (r PlatformRole) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(r.String())) }

// UnmarshalGQL reads a GraphQL enum value.
func (r *PlatformRole) UnmarshalGQL(v any) error {
	s, _ := v.(string)
	role, ok := ParsePlatformRole(s)
	if !ok {
		return fmt.Errorf("%q is not a PlatformRole", s)
	}
	*r = role
	return nil
}
