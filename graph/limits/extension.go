package limits

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Extension is a gqlgen handler extension enforcing Limits; add it with
// srv.Use(limits.Extension{Limits: limits.Default()}), after
// extension.AutomaticPersistedQuery if that is used, so the token count sees
// the query a persisted-query hash stands for.
//
// Tokens are counted before parsing (MutateOperationParameters), stopping
// at MaxTokens+1, so an oversized document is never parsed. Depth, aliases and
// cost are measured once the operation is parsed and validated
// (MutateOperationContext), before any resolver runs. Either way gqlgen
// answers the error alone and executes nothing. Do not also set
// handler.Server.SetParserTokenLimit below MaxTokens: its error is a
// GRAPHQL_PARSE_FAILED, not a QUERY_TOO_COMPLEX.
type Extension struct {
	Limits Limits
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = Extension{}

// ExtensionName names the extension in gqlgen's stats and logs.
func (Extension) ExtensionName() string { return "QueryLimits" }

// Validate refuses limits that would reject every operation (the zero value
// among them); gqlgen's Use panics with the error at start-up.
func (e Extension) Validate(graphql.ExecutableSchema) error { return e.Limits.validate() }

// MutateOperationParameters counts the raw query's tokens before gqlgen parses
// it, stopping one past the limit.
func (e Extension) MutateOperationParameters(_ context.Context, p *graphql.RawParams) *gqlerror.Error {
	if n := countTokens(p.Query, e.Limits.MaxTokens+1); n > e.Limits.MaxTokens {
		return tooComplex(limitTokens, "query token count exceeds the limit of %d (counting stopped at %d)",
			e.Limits.MaxTokens, n)
	}
	return nil
}

// MutateOperationContext measures the parsed, validated operation and refuses
// it if any measure is over its limit. It measures tokens again, because an
// extension Used after this one may have replaced the query.
func (e Extension) MutateOperationContext(
	_ context.Context, opCtx *graphql.OperationContext,
) *gqlerror.Error {
	m := e.Limits.Measure(nil, opCtx.Doc, opCtx.Operation, opCtx.Variables)
	return e.Limits.check(m)
}
