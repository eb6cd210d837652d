package apikey

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/audit"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/store"
)

// Service manages an organization's API keys: create, revoke, list. Every
// method takes the principal put on the context by @orgScoped and works
// inside its organization's wall.
type Service struct {
	Store *store.Store
	Now   func() time.Time
}

// Reasons of the refusals only this service makes.
const (
	// Keys never manage keys: a leaked key cannot mint itself a successor
	// that outlives its revocation, nor revoke the keys of others.
	ReasonKeyCreate = "API keys cannot create API keys: sign in as a user"
	ReasonKeyRevoke = "API keys cannot revoke API keys: sign in as a user"
	// A key acts for a member of its organization; a SUPERADMIN acting
	// where they are not one would get a key that never works.
	ReasonOverride = "a platform override cannot create API keys: keys act for a member of the organization"
)

func (s *Service) inOrg(ctx context.Context, p policy.Principal, fn func(q *store.Queries) error) error {
	return s.Store.InOrgTx(ctx, uuid.UUID(p.OrgID), uuid.UUID(p.UserID), fn)
}

// Create makes a key acting for the caller in the active organization with
// the permissions of in, and returns it with its secret, which is stored
// only as a hash and never shown again. Errors: FORBIDDEN when the
// caller is a key or a platform override, lacks apikeys:manage, or asks for
// a permission it does not hold (named); BAD_USER_INPUT for a bad name, no
// permission, an unknown permission (named), apikeys:manage, or an expiry
// that is not in the future or is more than a year ahead. A key may have no
// expiry: revocation is then its only end.
func (s *Service) Create(ctx context.Context, p policy.Principal, in CreateInput) (*Created, error) {
	if err := mayCreate(p); err != nil {
		return nil, err
	}
	name, err := validName(in.Name)
	if err != nil {
		return nil, err
	}
	set, err := scopes(p, in.Permissions)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	if err := validExpiry(in.ExpiresAt, now); err != nil {
		return nil, err
	}
	tok, secret := New(uuid.UUID(p.OrgID))
	var out *Key
	err = s.inOrg(ctx, p, func(q *store.Queries) error {
		row, err := q.CreateAPIKey(ctx, store.CreateAPIKeyParams{
			ID: uuid.Must(uuid.NewV7()), OrgID: uuid.UUID(p.OrgID), Name: name, Prefix: tok.PublicID,
			SecretHash: tok.SecretHash(), Permissions: set.Codes(), CreatedBy: uuid.UUID(p.UserID),
			Now: now, ExpiresAt: in.ExpiresAt,
		})
		if err != nil {
			return fmt.Errorf("insert api key %s: %w", tok.PublicID, err)
		}
		out = fromStore(row)
		return audit.Record(ctx, q, p, audit.Event{Action: "apikey.create", TargetType: "api_key", TargetID: row.ID})
	})
	if err != nil {
		return nil, err
	}
	return &Created{APIKey: out, Secret: secret}, nil
}

// Revoke revokes the organization's key id: it is refused from its next
// request on. Revoking a revoked key returns it unchanged and records
// nothing. Errors: FORBIDDEN when the caller is a key or lacks
// apikeys:manage; NOT_FOUND for an id that is not a key of the organization.
func (s *Service) Revoke(ctx context.Context, p policy.Principal, id uuid.UUID) (*Key, error) {
	if p.APIKeyID != (policy.ID{}) {
		return nil, qerr.Denied("", ReasonKeyRevoke)
	}
	if err := permit(p, policy.APIKeysManage); err != nil {
		return nil, err
	}
	org := uuid.UUID(p.OrgID)
	var out *Key
	err := s.inOrg(ctx, p, func(q *store.Queries) error {
		cur, err := q.LockAPIKey(ctx, store.LockAPIKeyParams{OrgID: org, ID: id})
		if err == store.ErrNoRows {
			return qerr.New(qerr.NotFound, "API key not found")
		}
		if err != nil {
			return fmt.Errorf("lock api key %s: %w", id, err)
		}
		if cur.RevokedAt != nil {
			out = fromStore(cur)
			return nil
		}
		row, err := q.RevokeAPIKey(ctx, store.RevokeAPIKeyParams{OrgID: org, ID: id, Now: s.Now()})
		if err != nil {
			return fmt.Errorf("revoke api key %s: %w", id, err)
		}
		out = fromStore(row)
		return audit.Record(ctx, q, p, audit.Event{Action: "apikey.revoke", TargetType: "api_key", TargetID: id})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// List returns every key of the organization, newest first, revoked and
// expired ones included. It needs apikeys:read.
func (s *Service) List(ctx context.Context, p policy.Principal) ([]*Key, error) {
	if err := permit(p, policy.APIKeysRead); err != nil {
		return nil, err
	}
	var out []*Key
	err := s.inOrg(ctx, p, func(q *store.Queries) error {
		rows, err := q.ListAPIKeys(ctx, uuid.UUID(p.OrgID))
		if err != nil {
			return fmt.Errorf("list api keys: %w", err)
		}
		out = make([]*Key, len(rows))
		for i, row := range rows {
			out[i] = fromStore(row)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// LogValue keeps the secret out of any log line c is written to: only the
// key's id and its public prefix are shown.
func (c Created) LogValue() slog.Value {
	if c.APIKey == nil {
		return slog.StringValue("[redacted]")
	}
	return slog.GroupValue(slog.Any("id", c.APIKey.ID), slog.String("prefix", c.APIKey.Prefix), slog.String("secret", "[redacted]"))
}

// fromStore maps a row to a Key, leaving the secret's hash behind.
func fromStore(k store.ApiKey) *Key {
	return &Key{
		ID: k.ID, OrgID: k.OrgID, Name: k.Name, Prefix: k.Prefix, Permissions: k.Permissions,
		CreatedByID: k.CreatedBy, CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt,
		LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt,
	}
}

// mayCreate refuses callers that may not create keys, before any input is
// read.
func mayCreate(p policy.Principal) error {
	switch {
	case p.APIKeyID != (policy.ID{}):
		return qerr.Denied("", ReasonKeyCreate)
	case p.Override:
		return qerr.Denied("", ReasonOverride)
	}
	return permit(p, policy.APIKeysManage)
}

// permit repeats the directive's gate inside the service, so a caller that
// reaches it another way is held all the same.
func permit(p policy.Principal, a policy.Permission) error {
	return denied(policy.Can(p, a, policy.InOrg(p.OrgID)))
}

// denied turns a policy deny into FORBIDDEN with its permission and reason.
func denied(d policy.Decision) error {
	switch {
	case d.Allowed:
		return nil
	case d.Reason == policy.ReasonUnknown:
		return qerr.Denied("", d.Reason)
	default:
		return qerr.Denied(d.Permission.String(), d.Reason)
	}
}

// validName trims name and checks the table's length limit, in characters.
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

// scopes reads a key's permissions: known codes, at least one, duplicates
// collapsed, and only ones the caller holds (the no-escalation rule).
// apikeys:manage is refused because keys never manage keys: a scope that
// could never be used would only mislead.
func scopes(p policy.Principal, codes []string) (policy.Set, error) {
	if len(codes) == 0 {
		return 0, qerr.Invalid("permissions", "a key needs at least one permission")
	}
	set, unknown, ok := policy.ParseSet(codes)
	if !ok {
		return 0, qerr.Invalid("permissions", "unknown permission %q", unknown)
	}
	if set.Has(policy.APIKeysManage) {
		return 0, qerr.Invalid("permissions", "apikeys:manage cannot be given to a key: keys never manage keys")
	}
	if err := denied(policy.CanGrant(p, set)); err != nil {
		return 0, err
	}
	return set, nil
}

// validExpiry checks an optional expiry: after now, and at most a year
// ahead. A date further out is likelier a typo (2205 for 2025) than a plan;
// a key meant to live on has no expiry at all.
func validExpiry(at *time.Time, now time.Time) error {
	switch {
	case at == nil:
		return nil
	case !at.After(now):
		return qerr.Invalid("expiresAt", "expiresAt must be in the future")
	case at.After(now.AddDate(1, 0, 0)):
		return qerr.Invalid("expiresAt", "expiresAt must be at most a year ahead")
	}
	return nil
}
