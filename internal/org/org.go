// Package org is organizations: creating them, reading the active one, and
// the memberships a user holds.
package org

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/audit"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/store"
)

// Organization is a tenant.
type Organization struct {
	ID        uuid.UUID
	Name      string
	Slug      string
	Modules   []string
	CreatedAt time.Time
}

// Role is a named bundle of permissions.
type Role struct {
	ID          uuid.UUID
	Key         string
	Name        string
	BuiltIn     bool
	Permissions []string
}

// Membership is a user's place in one organization.
type Membership struct {
	Organization *Organization
	Roles        []*Role
	// Permissions are the effective ones: the roles' union, restricted to
	// the organization's enabled modules.
	Permissions []string
}

// CreateInput is what createOrganization takes.
type CreateInput struct {
	Name string
	Slug *string
}

// Service manages organizations.
type Service struct {
	Store *store.Store
}

var slugPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$`)

func validName(name string) (string, error) {
	n := strings.TrimSpace(name)
	// PostgreSQL's text holds neither NUL nor invalid UTF-8; its refusal
	// would reach the client as INTERNAL.
	if !utf8.ValidString(n) || strings.ContainsRune(n, 0) {
		return "", qerr.Invalid("name", "name must be UTF-8 text without NUL characters")
	}
	if n == "" || utf8.RuneCountInString(n) > 100 {
		return "", qerr.Invalid("name", "name must be 1 to 100 characters")
	}
	return n, nil
}

// slugFrom derives a slug from a name: lowercase ASCII letters and digits,
// runs of anything else folded into one hyphen.
func slugFrom(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > 40 {
		s = strings.Trim(s[:40], "-")
	}
	if s == "" {
		s = "org"
	}
	return s
}

// Create makes an organization with every module enabled and its creator
// as owner, in one transaction with its audit event. A slug the caller
// chose that is taken answers CONFLICT; a derived one gets a random suffix.
func (s *Service) Create(ctx context.Context, user uuid.UUID, in CreateInput) (*Organization, error) {
	name, err := validName(in.Name)
	if err != nil {
		return nil, err
	}
	slug, chosen := "", in.Slug != nil
	if chosen {
		slug = strings.TrimSpace(*in.Slug)
		if !slugPattern.MatchString(slug) {
			return nil, qerr.Invalid("slug", "slug must be 1 to 50 lowercase letters, digits or inner hyphens")
		}
	} else {
		slug = slugFrom(name)
	}
	o, err := s.create(ctx, user, name, slug)
	if !chosen && qerr.Is(err, qerr.Conflict) {
		var b [3]byte
		_, _ = rand.Read(b[:])
		o, err = s.create(ctx, user, name, slug+"-"+hex.EncodeToString(b[:]))
	}
	return o, err
}

func (s *Service) create(ctx context.Context, user uuid.UUID, name, slug string) (*Organization, error) {
	id := uuid.Must(uuid.NewV7())
	var o store.Organization
	err := s.Store.InOrgTx(ctx, id, user, func(q *store.Queries) error {
		var err error
		if o, err = q.CreateOrganization(ctx, store.CreateOrganizationParams{OrgID: id, Name: name, Slug: slug}); err != nil {
			return fmt.Errorf("insert organization: %w", err)
		}
		if err := q.EnableModules(ctx, store.EnableModulesParams{OrgID: id, Modules: policy.Modules()}); err != nil {
			return fmt.Errorf("enable modules: %w", err)
		}
		if err := addMember(ctx, q, id, user, "owner"); err != nil {
			return err
		}
		p := policy.Principal{UserID: policy.ID(user), OrgID: policy.ID(id)}
		return audit.Record(ctx, q, p, audit.Event{Action: "organization.create", TargetType: "organization", TargetID: id})
	})
	if err != nil {
		return nil, err
	}
	return &Organization{ID: o.ID, Name: o.Name, Slug: o.Slug, Modules: policy.Modules(), CreatedAt: o.CreatedAt}, nil
}

// addMember makes user a member of org holding the built-in role key.
func addMember(ctx context.Context, q *store.Queries, org, user uuid.UUID, key string) error {
	role, err := q.GetBuiltInRole(ctx, key)
	if err != nil {
		return fmt.Errorf("find role %s: %w", key, err)
	}
	_, err = AddMember(ctx, q, org, user, []uuid.UUID{role.ID})
	return err
}

// Get returns the principal's active organization.
func (s *Service) Get(ctx context.Context, p policy.Principal) (*Organization, error) {
	id := uuid.UUID(p.OrgID)
	var o *Organization
	err := s.Store.InOrgTx(ctx, id, uuid.UUID(p.UserID), func(q *store.Queries) error {
		var err error
		o, err = Load(ctx, q, id)
		return err
	})
	return o, err
}

// Load reads a live organization and its enabled modules, NOT_FOUND if
// there is none. It runs on q, inside the caller's transaction in the
// organization's wall.
func Load(ctx context.Context, q *store.Queries, id uuid.UUID) (*Organization, error) {
	row, err := q.GetOrganization(ctx, id)
	if err == store.ErrNoRows {
		return nil, qerr.New(qerr.NotFound, "organization not found")
	}
	if err != nil {
		return nil, fmt.Errorf("get organization %s: %w", id, err)
	}
	modules, err := q.ListModules(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("list modules of %s: %w", id, err)
	}
	return &Organization{ID: row.ID, Name: row.Name, Slug: row.Slug, Modules: moduleSet(modules).Names(), CreatedAt: row.CreatedAt}, nil
}

// moduleSet reads module names; a name the policy does not know enables
// nothing.
func moduleSet(names []string) policy.ModuleSet {
	var s policy.ModuleSet
	for _, name := range names {
		if m, ok := policy.ParseModule(name); ok {
			s |= policy.ModulesOf(m)
		}
	}
	return s
}

// ListMine returns the user's memberships, oldest first, each with its
// roles and effective permissions.
func (s *Service) ListMine(ctx context.Context, user uuid.UUID) ([]*Membership, error) {
	var orgs []store.Organization
	err := s.Store.InOrgTx(ctx, uuid.Nil, user, func(q *store.Queries) error {
		var err error
		orgs, err = q.ListMyOrganizations(ctx, user)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list organizations: %w", err)
	}
	out := make([]*Membership, 0, len(orgs))
	for _, o := range orgs {
		m, err := s.membership(ctx, o.ID, user)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// membership reads one membership inside its own organization's wall.
func (s *Service) membership(ctx context.Context, orgID, user uuid.UUID) (*Membership, error) {
	m := &Membership{}
	err := s.Store.InOrgTx(ctx, orgID, user, func(q *store.Queries) error {
		o, err := Load(ctx, q, orgID)
		if err != nil {
			return err
		}
		rows, err := q.ListMemberRoles(ctx, store.ListMemberRolesParams{OrgID: orgID, UserID: user})
		if err != nil {
			return fmt.Errorf("list roles: %w", err)
		}
		var granted policy.Set
		for _, r := range rows {
			set, _, _ := policy.ParseSet(r.Permissions) // unknown codes grant nothing
			granted |= set
			m.Roles = append(m.Roles, &Role{ID: r.ID, Key: r.Key, Name: r.Name, BuiltIn: r.OrgID == nil, Permissions: r.Permissions})
		}
		m.Organization, m.Permissions = o, granted.Enabled(moduleSet(o.Modules)).Codes()
		return nil
	})
	return m, err
}
