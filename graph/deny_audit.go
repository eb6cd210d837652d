package graph

import (
	"context"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/quirehq/quire/internal/audit"
	"github.com/quirehq/quire/internal/authn"
	"github.com/quirehq/quire/internal/authz"
	"github.com/quirehq/quire/internal/org"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/requestid"
)

// DeniedActionPrefix starts the action of every audited refusal of a
// mutation: "mutation.<field>", e.g. "mutation.createNote". The field name
// is the schema's, never the client's alias, so the log can be filtered on
// it; the decision column says DENIED.
const DeniedActionPrefix = "mutation."

// recordDenials is root-field middleware that writes every root Mutation
// field refused with FORBIDDEN (by a directive or by a service) to the audit
// log: decision DENIED, the missing permission and the policy's reason, the
// caller as actor. Mutation fields run one after another, so the errors the
// response gained while the field ran are the field's; they are seen after
// the field's transaction rolled back, and written in a transaction of
// their own, so the record survives. Other fields and other errors pass
// untouched. It wraps root fields only: as field middleware it would cost
// every field of every answer (every note of a page) a closure and a call.
func recordDenials(orgs *org.Service, logger *slog.Logger) graphql.RootFieldMiddleware {
	return func(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
		rfc := graphql.GetRootFieldContext(ctx)
		if op := graphql.GetOperationContext(ctx).Operation; rfc == nil || op == nil || op.Operation != ast.Mutation {
			return next(ctx)
		}
		before := len(graphql.GetErrors(ctx))
		res := next(ctx)
		errs := graphql.GetErrors(ctx)
		for _, gerr := range errs[min(before, len(errs)):] {
			if e := qerr.As(gerr); e != nil && e.Code == qerr.Forbidden {
				recordDenial(ctx, orgs, logger, rfc.Field.Field, e)
				break
			}
		}
		return res
	}
}

// recordDenial writes one refusal. The organization is the one the request
// resolved, when the field runs in one (@orgScoped) and resolving it
// succeeded; otherwise (e.g. @platformRole) the event is org-less. A
// failure to record is logged, never shown: the client already has its
// FORBIDDEN. The write ignores the client going away, so hanging up cannot
// erase a refusal.
func recordDenial(ctx context.Context, orgs *org.Service, logger *slog.Logger, field *ast.Field, e *qerr.Error) {
	var actor uuid.UUID
	if id, ok := authn.FromContext(ctx); ok {
		actor = id.UserID
	}
	var p *policy.Principal
	if field.Definition != nil && field.Definition.Directives.ForName("orgScoped") != nil {
		if got, ok := authz.PrincipalOf(ctx); ok {
			p = &got
		}
	}
	reason := e.Reason
	if reason == "" {
		reason = e.Message
	}
	ev := audit.Event{Action: DeniedActionPrefix + field.Name, Reason: reason, Permission: e.Permission}
	if err := orgs.RecordDenied(context.WithoutCancel(ctx), actor, p, ev); err != nil {
		logger.ErrorContext(ctx, "record denied attempt", "request_id", requestid.FromContext(ctx),
			"action", ev.Action, "user_id", actor, "err", err)
	}
}
