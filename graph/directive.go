package graph

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/quirehq/quire/internal/authn"
	"github.com/quirehq/quire/internal/authz"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
)

// accessDirectives are the directives of which every root field carries
// exactly one; @hasPermission refines @orgScoped.
var accessDirectives = []string{"public", "authenticated", "orgScoped", "platformRole"}

type directives struct {
	authz  *authz.Service
	logger *slog.Logger
}

func (d directives) root() DirectiveRoot {
	return DirectiveRoot{
		Public:        func(ctx context.Context, _ any, next graphql.Resolver) (any, error) { return next(ctx) },
		Authenticated: d.authenticated,
		OrgScoped:     d.orgScoped,
		HasPermission: d.hasPermission,
		PlatformRole:  d.platformRole,
	}
}

// caller returns the authenticated, active caller, or UNAUTHENTICATED.
func (d directives) caller(ctx context.Context) (authz.Caller, error) {
	id, ok := authn.FromContext(ctx)
	if !ok {
		if err := authn.FailureFromContext(ctx); err != nil {
			return authz.Caller{}, err
		}
		return authz.Caller{}, qerr.New(qerr.Unauthenticated, "sign in first: send Authorization: Bearer <access token>")
	}
	return d.authz.Caller(ctx, id)
}

// principal resolves the active organization and what the caller holds
// there. It is memoised per request, so @hasPermission (which gqlgen runs
// outside @orgScoped) and @orgScoped share one load.
func (d directives) principal(ctx context.Context) (policy.Principal, error) {
	c, err := d.caller(ctx)
	if err != nil {
		return policy.Principal{}, err
	}
	requested, _ := authn.RequestedOrg(ctx)
	return d.authz.Principal(ctx, c, requested)
}

// keyFields are the @authenticated fields an API key may use: a key acts in
// its organization, and everything else @authenticated belongs to a user's
// session (signing out, switching or creating organizations, invitations).
var keyFields = map[string]bool{"me": true, "permissionCatalog": true}

func (d directives) authenticated(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
	c, err := d.caller(ctx)
	if err != nil {
		return nil, err
	}
	if c.IsAPIKey() && !keyFields[graphql.GetFieldContext(ctx).Field.Name] {
		return nil, qerr.Denied("", reasonKeySession)
	}
	return next(authz.NewCallerContext(ctx, c))
}

// reasonKeySession answers an API key that asks for what only a signed-in
// user may do.
const reasonKeySession = "API keys act only in their organization: sign in as a user for this"

func (d directives) orgScoped(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
	c, err := d.caller(ctx)
	if err != nil {
		return nil, err
	}
	p, err := d.principal(ctx)
	if err != nil {
		return nil, err
	}
	return next(authz.NewContext(authz.NewCallerContext(ctx, c), p))
}

func (d directives) hasPermission(ctx context.Context, _ any, next graphql.Resolver, code string) (any, error) {
	perm, ok := policy.ParsePermission(code)
	if !ok { // CheckSchema refuses this at start-up; fail closed regardless
		return nil, fmt.Errorf("unknown permission %q in @hasPermission", code)
	}
	p, err := d.principal(ctx)
	if err != nil {
		return nil, err
	}
	if dec := policy.Can(p, perm, policy.InOrg(p.OrgID)); !dec.Allowed {
		d.logger.DebugContext(ctx, "denied", "permission", code, "reason", dec.Reason,
			"user_id", uuid.UUID(p.UserID), "org_id", uuid.UUID(p.OrgID))
		return nil, qerr.Denied(dec.Permission.String(), dec.Reason)
	}
	return next(ctx)
}

func (d directives) platformRole(ctx context.Context, _ any, next graphql.Resolver, role policy.PlatformRole) (any, error) {
	c, err := d.caller(ctx)
	if err != nil {
		return nil, err
	}
	if c.IsAPIKey() {
		return nil, qerr.Denied("", reasonKeySession)
	}
	if dec := policy.HasPlatformRole(c.PlatformRole, role); !dec.Allowed {
		d.logger.DebugContext(ctx, "denied", "platform_role", role.String(), "reason", dec.Reason, "user_id", c.UserID)
		return nil, qerr.Denied("", dec.Reason)
	}
	return next(authz.NewCallerContext(ctx, c))
}

// CheckSchema enforces secure-by-default on a schema: every root field of
// Query, Mutation and Subscription carries exactly one access directive, and
// every @hasPermission names a permission of the catalog and sits with
// @orgScoped. The server refuses to start otherwise.
func CheckSchema(s *ast.Schema) error {
	for _, root := range []*ast.Definition{s.Query, s.Mutation, s.Subscription} {
		if root == nil {
			continue
		}
		for _, f := range root.Fields {
			if err := checkField(root.Name, f); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkField(root string, f *ast.FieldDefinition) error {
	if len(f.Name) > 1 && f.Name[:2] == "__" {
		return nil // introspection
	}
	n := 0
	for _, name := range accessDirectives {
		if f.Directives.ForName(name) != nil {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("%s.%s carries %d access directives, want exactly one of %v", root, f.Name, n, accessDirectives)
	}
	for _, dir := range f.Directives.ForNames("hasPermission") {
		code := dir.Arguments.ForName("permission").Value.Raw
		if _, ok := policy.ParsePermission(code); !ok {
			return fmt.Errorf("%s.%s: @hasPermission names unknown permission %q", root, f.Name, code)
		}
		if f.Directives.ForName("orgScoped") == nil {
			return fmt.Errorf("%s.%s: @hasPermission needs @orgScoped", root, f.Name)
		}
	}
	return nil
}
