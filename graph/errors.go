package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/requestid"
	"github.com/quirehq/quire/internal/store"
)

// gqlgenCodes maps the codes gqlgen and gqlparser set on errors they raise
// before any resolver runs.
var gqlgenCodes = map[string]qerr.Code{
	"GRAPHQL_PARSE_FAILED":          qerr.BadUserInput,
	"GRAPHQL_VALIDATION_FAILED":     qerr.BadUserInput,
	"PERSISTED_QUERY_NOT_FOUND":     qerr.BadUserInput,
	"PERSISTED_QUERY_NOT_SUPPORTED": qerr.BadUserInput,
	"COMPLEXITY_LIMIT_EXCEEDED":     qerr.QueryTooComplex,
	string(qerr.QueryTooComplex):    qerr.QueryTooComplex,
}

// presentError is the one place an error becomes what a client sees. A
// qerr.Error shows its code and message; errors gqlgen raised before
// execution keep their message under our code; anything else is INTERNAL
// with a fixed message, logged here (once) with the request id.
func presentError(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		out := graphql.DefaultErrorPresenter(ctx, err)
		if e := qerr.As(err); e != nil && e.Code != qerr.Internal {
			out.Message, out.Extensions = e.Message, extensions(e)
			return out
		}
		var gerr *gqlerror.Error
		if errors.As(err, &gerr) && gerr.Rule == "MaxIntrospectionDepth" {
			// gqlparser's own guard meets deep introspection before our
			// limits do; it is the same limit, so it answers the same way.
			out.Extensions = map[string]any{"code": string(qerr.QueryTooComplex), "limit": "depth"}
			return out
		}
		if errors.As(err, &gerr) && gerr.Err == nil {
			if code, ok := gerr.Extensions["code"].(string); ok {
				if mapped, ok := gqlgenCodes[code]; ok {
					out.Extensions = map[string]any{"code": string(mapped)}
					if limit, ok := gerr.Extensions["limit"]; ok {
						out.Extensions["limit"] = limit
					}
					return out
				}
			}
		}
		id := requestid.FromContext(ctx)
		if errors.Is(err, store.ErrStale) {
			// A speculative answer whose assumptions failed: it is dropped
			// and the request runs again (speculate.go); nothing to report.
			out.Message = "internal error"
			out.Extensions = map[string]any{"code": string(qerr.Internal), "requestId": id}
			return out
		}
		logger.ErrorContext(ctx, "internal error", "request_id", id, "path", out.Path.String(), "err", err)
		out.Message = "internal error"
		out.Extensions = map[string]any{"code": string(qerr.Internal), "requestId": id}
		return out
	}
}

func extensions(e *qerr.Error) map[string]any {
	ext := map[string]any{"code": string(e.Code)}
	if e.Permission != "" {
		ext["permission"] = e.Permission
	}
	if e.Reason != "" {
		ext["reason"] = e.Reason
	}
	if e.Limit != "" {
		ext["limit"] = e.Limit
	}
	if e.Field != "" {
		ext["field"] = e.Field
	}
	return ext
}

// recoverPanic turns a resolver panic into an INTERNAL error; the stack goes
// to the log through presentError, never to the client.
func recoverPanic(ctx context.Context, v any) error {
	return fmt.Errorf("panic: %v\n%s", v, debug.Stack())
}
