// Package limits bounds how much work one GraphQL operation may ask for: its
// depth, aliases, lexical tokens and cost (API.md, "Limits"). An operation over
// any limit is answered with QUERY_TOO_COMPLEX, extensions.limit naming which,
// and nothing of it runs.
//
// Measure computes the four measures of a parsed, validated operation;
// Extension enforces Limits inside gqlgen's handler:
//
//	srv.Use(limits.Extension{Limits: limits.Default()})
package limits

import (
	"errors"
	"fmt"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/quirehq/quire/internal/page"
	"github.com/quirehq/quire/internal/qerr"
)

// Limits are the largest measures an operation may have.
type Limits struct {
	MaxDepth, MaxAliases, MaxTokens, MaxCost int
	// DefaultPageSize is the page a list is assumed to return when the query
	// does not say (no first argument, or a null one): what the resolvers
	// return in that case.
	DefaultPageSize int
}

// Default returns API.md's limits.
func Default() Limits {
	return Limits{
		MaxDepth:        12,
		MaxAliases:      15,
		MaxTokens:       1000,
		MaxCost:         5000,
		DefaultPageSize: page.DefaultSize,
	}
}

// Measures are what one operation asks for; see Measure for how each is counted.
type Measures struct {
	Depth, Aliases, Tokens, Cost int
}

// The values of extensions.limit.
const (
	limitDepth   = "depth"
	limitAliases = "aliases"
	limitTokens  = "tokens"
	limitCost    = "cost"
)

// validate refuses limits that would reject every operation, such as the zero
// value, so a misconfigured server fails at start-up rather than on each request.
func (l Limits) validate() error {
	if l.MaxDepth < 1 || l.MaxAliases < 0 || l.MaxTokens < 1 || l.MaxCost < 1 ||
		l.DefaultPageSize < 1 {
		return errors.New("query limits must be positive (MaxAliases may be 0): use limits.Default()")
	}
	return nil
}

// check returns the error for the first limit m exceeds, in the order tokens,
// depth, aliases, cost, or nil.
func (l Limits) check(m Measures) *gqlerror.Error {
	switch {
	case m.Tokens > l.MaxTokens:
		return tooComplex(limitTokens, "query token count %d exceeds the limit of %d", m.Tokens, l.MaxTokens)
	case m.Depth > l.MaxDepth:
		return tooComplex(limitDepth, "query depth %d exceeds the limit of %d", m.Depth, l.MaxDepth)
	case m.Aliases > l.MaxAliases:
		return tooComplex(limitAliases, "query alias count %d exceeds the limit of %d", m.Aliases, l.MaxAliases)
	case m.Cost > l.MaxCost:
		return tooComplex(limitCost, "query cost %d exceeds the limit of %d", m.Cost, l.MaxCost)
	}
	return nil
}

// tooComplex returns a QUERY_TOO_COMPLEX error naming the exceeded limit. The
// extensions are set on the GraphQL error itself, so gqlgen's default presenter
// sends them as they are, and the same facts ride along as a *qerr.Error cause,
// so a presenter that maps qerr codes finds QUERY_TOO_COMPLEX and the limit too.
func tooComplex(limit, format string, args ...any) *gqlerror.Error {
	msg := fmt.Sprintf(format, args...)
	return &gqlerror.Error{
		Message: msg,
		Extensions: map[string]any{
			"code":  string(qerr.QueryTooComplex),
			"limit": limit,
		},
		Err: &qerr.Error{Code: qerr.QueryTooComplex, Message: msg, Limit: limit},
	}
}
