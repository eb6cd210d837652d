package graph

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/quirehq/quire/graph/limits"
	"github.com/quirehq/quire/internal/authn"
	"github.com/quirehq/quire/internal/authz"
)

// HandlerConfig is what the GraphQL handler needs besides the services.
type HandlerConfig struct {
	Resolver *Resolver
	Logger   *slog.Logger
	// Introspection is off in production.
	Introspection bool
	Limits        limits.Limits
	// Authenticate checks a websocket's connection_init credential, as the
	// HTTP middleware checks the Authorization header.
	Authenticate func(ctx context.Context, authorization string) (authn.Identity, error)
	// CORSOrigins are the browser origins (QUIRE_CORS_ORIGINS) besides the
	// server's own that may open a websocket.
	CORSOrigins []string
	// DirectAnswers answers lists of notes without gqlgen's executor
	// (direct.go); DirectAnswered, if set, counts the operations it
	// answered.
	DirectAnswers  bool
	DirectAnswered prometheus.Counter
}

// NewHandler returns the GraphQL endpoint: POST and GET (with automatic
// persisted queries), the limits of API.md, the directives and the error
// presenter. It refuses a schema that fails CheckSchema.
func NewHandler(cfg HandlerConfig) (http.Handler, error) {
	d := directives{authz: cfg.Resolver.Authz, logger: cfg.Logger}
	es := NewExecutableSchema(Config{Resolvers: cfg.Resolver, Directives: d.root()})
	if err := CheckSchema(es.Schema()); err != nil {
		return nil, fmt.Errorf("check schema: %w", err)
	}
	srv := handler.New(es)
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(postTransport{})
	srv.AddTransport(websocket(cfg))
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if cfg.Introspection {
		srv.Use(extension.Introspection{})
	} else {
		srv.Use(noIntrospection{})
		// "Did you mean …?" names fields, arguments, types and enum
		// values: the schema introspection would show. SetDisableSuggestion
		// covers two validation rules; the rules function swaps the rest.
		srv.SetDisableSuggestion(true)
		srv.SetValidationRulesFn(func() *rules.Rules {
			r := rules.NewDefaultRules()
			for _, swap := range [][2]core.Rule{
				{rules.KnownArgumentNamesRule, rules.KnownArgumentNamesRuleWithoutSuggestions},
				{rules.KnownTypeNamesRule, rules.KnownTypeNamesRuleWithoutSuggestions},
				{rules.ValuesOfCorrectTypeRule, rules.ValuesOfCorrectTypeRuleWithoutSuggestions},
			} {
				r.RemoveRule(swap[0].Name)
				r.AddRule(swap[1].Name, swap[1].RuleFunc)
			}
			return r
		})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	srv.Use(limits.Extension{Limits: cfg.Limits})
	srv.SetErrorPresenter(presentError(cfg.Logger))
	srv.SetRecoverFunc(recoverPanic)
	var direct *directAnswer
	if cfg.DirectAnswers {
		direct = newDirectAnswer(es.(*executableSchema), d)
	}
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		ctx = authz.NewRequestContext(ctx)
		ctx = guardOperation(ctx)
		ctx = context.WithValue(ctx, loadersKey{}, newLoaders(cfg.Resolver.Accounts))
		if direct != nil {
			if resp, ok := direct.answer(ctx); ok {
				if cfg.DirectAnswered != nil {
					cfg.DirectAnswered.Inc()
				}
				return graphql.OneShot(resp)
			}
		}
		return next(ctx)
	})
	srv.AroundRootFields(recordDenials(cfg.Resolver.Orgs, cfg.Logger))
	return speculate(srv, cfg.Resolver.Authz.Store, cfg.Logger), nil
}
