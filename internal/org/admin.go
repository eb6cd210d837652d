package org

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/audit"
	"github.com/quirehq/quire/internal/authz"
	"github.com/quirehq/quire/internal/page"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/store"
)

// This file is an organization's administration: switching to it, its name
// and slug, its deletion, its modules, and reading its audit log.

func orgNotFound() error { return qerr.New(qerr.NotFound, "organization not found") }

// Switch makes orgID the active organization of the caller's session, so
// later requests without X-Organization-Id act there, and returns the
// caller's membership in it. An organization the caller is not an active
// member of (another tenant's, a deleted one, an unknown id) is NOT_FOUND;
// a SUPERADMIN may switch to any live organization as a platform override,
// which is audited as organization.switch, and gets no roles and every
// permission the organization's modules allow. An API key cannot switch:
// FORBIDDEN.
func (s *Service) Switch(ctx context.Context, c authz.Caller, orgID uuid.UUID) (*Membership, error) {
	if c.APIKeyID != uuid.Nil || c.SessionID == uuid.Nil {
		return nil, qerr.Denied("", "an API key acts in its own organization only")
	}
	var override bool
	err := s.Store.InOrgTx(ctx, orgID, c.UserID, func(q *store.Queries) error {
		row, err := q.GetPrincipal(ctx, store.GetPrincipalParams{OrgID: orgID, UserID: c.UserID})
		if err == store.ErrNoRows {
			return orgNotFound()
		}
		if err != nil {
			return fmt.Errorf("read membership in %s: %w", orgID, err)
		}
		if !row.Member {
			if !policy.HasPlatformRole(c.PlatformRole, policy.PlatformSuperadmin).Allowed {
				return orgNotFound() // existence does not leak
			}
			override = true
		}
		return s.storeActiveOrg(ctx, q, c, orgID, override)
	})
	if err != nil {
		return nil, err
	}
	m, err := s.membership(ctx, orgID, c.UserID)
	if err != nil {
		return nil, err
	}
	if override {
		m.Roles = []*Role{}
		m.Permissions = policy.All.Enabled(moduleSet(m.Organization.Modules)).Codes()
	}
	return m, nil
}

// storeActiveOrg writes orgID on the caller's session, and audits an
// override. A session revoked since the request began is UNAUTHENTICATED.
func (s *Service) storeActiveOrg(ctx context.Context, q *store.Queries, c authz.Caller, orgID uuid.UUID, override bool) error {
	n, err := q.SetSessionActiveOrg(ctx, store.SetSessionActiveOrgParams{OrgID: &orgID, SessionID: c.SessionID, UserID: c.UserID})
	if err != nil {
		return fmt.Errorf("store active organization: %w", err)
	}
	if n == 0 {
		return qerr.New(qerr.Unauthenticated, "session revoked: sign in again")
	}
	if !override {
		return nil
	}
	p := policy.Principal{UserID: policy.ID(c.UserID), OrgID: policy.ID(orgID), PlatformRole: c.PlatformRole, Override: true}
	return audit.Record(ctx, q, p, audit.Event{Action: "organization.switch", TargetType: "organization", TargetID: orgID})
}

// Update renames the principal's organization and/or changes its slug,
// validated as Create validates them, with its audit event
// organization.update. It needs org:update (FORBIDDEN otherwise); an input
// with neither field, a bad name or a bad slug is BAD_USER_INPUT; a slug
// another organization holds (deleted ones included: slugs are never
// reused) is CONFLICT.
func (s *Service) Update(ctx context.Context, p policy.Principal, in UpdateInput) (*Organization, error) {
	if err := permit(p, policy.OrgUpdate); err != nil {
		return nil, err
	}
	id := uuid.UUID(p.OrgID)
	params, err := updateParams(id, in)
	if err != nil {
		return nil, err
	}
	var o *Organization
	err = s.Store.InOrgTx(ctx, id, uuid.UUID(p.UserID), func(q *store.Queries) error {
		if _, err := q.UpdateOrganization(ctx, params); err == store.ErrNoRows {
			return orgNotFound()
		} else if err != nil {
			return fmt.Errorf("update organization %s: %w", id, err)
		}
		if err := audit.Record(ctx, q, p, audit.Event{Action: "organization.update", TargetType: "organization", TargetID: id}); err != nil {
			return err
		}
		o, err = Load(ctx, q, id)
		return err
	})
	return o, err
}

func updateParams(id uuid.UUID, in UpdateInput) (store.UpdateOrganizationParams, error) {
	out := store.UpdateOrganizationParams{OrgID: id}
	if in.Name == nil && in.Slug == nil {
		return out, qerr.Invalid("input", "give a name or a slug to change")
	}
	if in.Name != nil {
		name, err := validName(*in.Name)
		if err != nil {
			return out, err
		}
		out.Name = &name
	}
	if in.Slug != nil {
		slug := strings.TrimSpace(*in.Slug)
		if !slugPattern.MatchString(slug) {
			return out, qerr.Invalid("slug", "slug must be 1 to 50 lowercase letters, digits or inner hyphens")
		}
		out.Slug = &slug
	}
	return out, nil
}

// Delete soft-deletes the principal's organization (deleted_at), with its
// audit event organization.delete in the same transaction. Afterwards
// nothing of it is reachable: every read filters deleted_at, so its members
// get NOT_FOUND (or ORG_REQUIRED without a header), myOrganizations omits
// it, and its slug stays taken. It needs org:delete (FORBIDDEN otherwise);
// an organization already deleted is NOT_FOUND.
func (s *Service) Delete(ctx context.Context, p policy.Principal) error {
	if err := permit(p, policy.OrgDelete); err != nil {
		return err
	}
	id := uuid.UUID(p.OrgID)
	return s.Store.InOrgTx(ctx, id, uuid.UUID(p.UserID), func(q *store.Queries) error {
		if err := audit.Record(ctx, q, p, audit.Event{Action: "organization.delete", TargetType: "organization", TargetID: id}); err != nil {
			return err
		}
		n, err := q.SoftDeleteOrganization(ctx, id)
		if err != nil {
			return fmt.Errorf("delete organization %s: %w", id, err)
		}
		if n == 0 {
			return orgNotFound()
		}
		return nil
	})
}

// SetModules makes names exactly the enabled modules of organization orgID
// and returns the organization. It is a platform act: the caller needs the
// ADMIN platform role (FORBIDDEN otherwise), not a membership, and the
// audit event organization.set_modules is recorded in the organization as
// an override, naming the modules in its reason. An unknown module name is
// BAD_USER_INPUT naming it; an unknown or deleted organization is
// NOT_FOUND. Repeated names count once; an empty list disables every
// module, core included, which leaves members nothing but reads of the
// organization itself. Triggers bump the organization's authz epoch, so the
// change is enforced from the very next request.
func (s *Service) SetModules(ctx context.Context, c authz.Caller, orgID uuid.UUID, names []string) (*Organization, error) {
	if d := policy.HasPlatformRole(c.PlatformRole, policy.PlatformAdmin); !d.Allowed {
		return nil, qerr.Denied("", d.Reason)
	}
	var set policy.ModuleSet
	for _, name := range names {
		m, ok := policy.ParseModule(name)
		if !ok {
			return nil, qerr.Invalid("modules", "unknown module %q: modules are %s", name, strings.Join(policy.Modules(), ", "))
		}
		set |= policy.ModulesOf(m)
	}
	keep := set.Names()
	var o *Organization
	err := s.Store.InOrgTx(ctx, orgID, c.UserID, func(q *store.Queries) error {
		if err := replaceModules(ctx, q, orgID, keep); err != nil {
			return err
		}
		p := policy.Principal{UserID: policy.ID(c.UserID), OrgID: policy.ID(orgID), PlatformRole: c.PlatformRole, Override: true}
		e := audit.Event{Action: "organization.set_modules", TargetType: "organization", TargetID: orgID, Reason: modulesReason(keep)}
		if err := audit.Record(ctx, q, p, e); err != nil {
			return err
		}
		var err error
		o, err = Load(ctx, q, orgID)
		return err
	})
	return o, err
}

// replaceModules locks the organization's row first, so two concurrent
// replacements run one after the other and the last one wins whole.
func replaceModules(ctx context.Context, q *store.Queries, orgID uuid.UUID, keep []string) error {
	if _, err := q.LockOrganization(ctx, orgID); err == store.ErrNoRows {
		return orgNotFound()
	} else if err != nil {
		return fmt.Errorf("lock organization %s: %w", orgID, err)
	}
	if err := q.DisableModulesExcept(ctx, store.DisableModulesExceptParams{OrgID: orgID, Keep: keep}); err != nil {
		return fmt.Errorf("disable modules: %w", err)
	}
	if err := q.EnableModules(ctx, store.EnableModulesParams{OrgID: orgID, Modules: keep}); err != nil {
		return fmt.Errorf("enable modules: %w", err)
	}
	return nil
}

func modulesReason(keep []string) string {
	if len(keep) == 0 {
		return "enabled modules: none"
	}
	return "enabled modules: " + strings.Join(keep, ", ")
}

// AuditLog returns a page of the principal's organization's audit log,
// newest first, narrowed by f. The organization owns its log, so its
// service reads it. It needs audit:read (FORBIDDEN otherwise); a bad
// first, after or filter.decision is BAD_USER_INPUT.
func (s *Service) AuditLog(ctx context.Context, p policy.Principal, first *int, after *string, f audit.Filter) (*audit.Page, error) {
	if err := permit(p, policy.AuditRead); err != nil {
		return nil, err
	}
	size, err := page.Size(first)
	if err != nil {
		return nil, err
	}
	cur, err := page.Decode(after)
	if err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	var pg *audit.Page
	id := uuid.UUID(p.OrgID)
	err = s.Store.InOrgTx(ctx, id, uuid.UUID(p.UserID), func(q *store.Queries) error {
		pg, err = audit.List(ctx, q, id, size, cur, f)
		return err
	})
	return pg, err
}

// CountAudit returns how many events AuditLog would return over all pages,
// under the same rules.
func (s *Service) CountAudit(ctx context.Context, p policy.Principal, f audit.Filter) (int, error) {
	if err := permit(p, policy.AuditRead); err != nil {
		return 0, err
	}
	if err := f.Validate(); err != nil {
		return 0, err
	}
	var n int
	id := uuid.UUID(p.OrgID)
	err := s.Store.InOrgTx(ctx, id, uuid.UUID(p.UserID), func(q *store.Queries) error {
		var err error
		n, err = audit.Count(ctx, q, id, f)
		return err
	})
	return n, err
}

// RecordDenied writes a refused attempt to the audit log, decision DENIED,
// in a transaction of its own: the attempt's transaction has rolled back,
// and the record must survive it. It goes to p's organization (with p's API
// key and override) when the attempt was aimed at one, else outside any
// organization with actor (uuid.Nil: nobody signed in) as its actor.
func (s *Service) RecordDenied(ctx context.Context, actor uuid.UUID, p *policy.Principal, e audit.Event) error {
	e.Denied = true
	if p == nil {
		return s.Store.InTx(ctx, func(q *store.Queries) error { return audit.RecordGlobal(ctx, q, actor, e) })
	}
	return s.Store.InOrgTx(ctx, uuid.UUID(p.OrgID), uuid.UUID(p.UserID), func(q *store.Queries) error {
		return audit.Record(ctx, q, *p, e)
	})
}
