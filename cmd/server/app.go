package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quirehq/quire/graph"
	"github.com/quirehq/quire/graph/limits"
	"github.com/quirehq/quire/internal/account"
	"github.com/quirehq/quire/internal/apikey"
	"github.com/quirehq/quire/internal/authn"
	"github.com/quirehq/quire/internal/authz"
	"github.com/quirehq/quire/internal/config"
	"github.com/quirehq/quire/internal/httpserver"
	"github.com/quirehq/quire/internal/invite"
	"github.com/quirehq/quire/internal/live"
	"github.com/quirehq/quire/internal/mail"
	"github.com/quirehq/quire/internal/note"
	"github.com/quirehq/quire/internal/org"
	"github.com/quirehq/quire/internal/store"
	"github.com/quirehq/quire/internal/web"
)

// app is Quire wired together: what `quire serve` runs and what the
// end-to-end tests drive.
type app struct {
	store    *store.Store
	accounts *account.Service
	keys     *apikey.Checker
	live     *live.Hub
	notes    *note.Service
	handler  http.Handler
	// direct counts the operations graph/direct.go answered.
	direct prometheus.Counter
}

// deps are what differs between a server and a test: the clock and mail.
type deps struct {
	Now    func() time.Time
	Mailer mail.Mailer
	// RetryDelays are the waits between mail delivery attempts; nil means
	// account.DefaultRetryDelays.
	RetryDelays []time.Duration
	// Tracer, if set, sees every statement of the app's pool.
	Tracer pgx.QueryTracer
}

// newApp opens the app role's pool, refuses a role that row-level security
// would not hold, and builds the HTTP handler.
func newApp(ctx context.Context, cfg config.Config, logger *slog.Logger, appURL string, secret []byte, d deps) (*app, error) {
	reg := prometheus.NewRegistry()
	pool := newPoolMetrics(d.Tracer)
	reg.MustRegister(pool)
	st, err := store.Open(ctx, appURL, int32(cfg.DBMaxConns), store.WithTracer(pool),
		store.WithSessionTimeouts(cfg.DBStatementTimeout, cfg.DBIdleInTxTimeout))
	if err != nil {
		return nil, err
	}
	if err := st.CheckRole(ctx); err != nil {
		st.Close()
		return nil, err
	}
	tokens := authn.NewTokens(secret, d.Now)
	keys := &apikey.Checker{Store: st, Now: d.Now, Logger: logger}
	accounts := &account.Service{
		Store: st, Tokens: tokens, Mailer: d.Mailer, Logger: logger,
		PublicURL: cfg.PublicURL, RefreshTTL: cfg.RefreshTTL, Now: d.Now, RetryDelays: d.RetryDelays,
	}
	az := &authz.Service{Store: st, Now: d.Now, Cache: authz.NewCache(100_000)}
	notes := &note.Service{Store: st, Now: d.Now}
	// LISTEN needs a session connection: the app's URL may go through a
	// transaction pooler, QUIRE_LISTEN_DATABASE_URL must not.
	listenURL := cfg.ListenURL
	if listenURL == "" { // the embedded database: the app's own URL
		listenURL = appURL
	}
	hub := live.New(listenURL, live.Limits{
		PerConnection: cfg.MaxSubscriptionsPerConnection, PerUser: cfg.MaxSubscriptionsPerUser,
	}, logger)
	if err := hub.Start(ctx); err != nil {
		st.Close()
		return nil, err
	}
	authenticate := (&authn.Authenticator{Tokens: tokens, Keys: keys}).Authenticate
	direct := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "quire_graphql_direct_answers_total",
		Help: "GraphQL operations answered by the direct writer of note lists rather than gqlgen's executor.",
	})
	reg.MustRegister(direct)
	gql, err := graph.NewHandler(graph.HandlerConfig{
		Resolver: &graph.Resolver{
			Accounts: accounts, Orgs: &org.Service{Store: st},
			NoteService: notes, Authz: az, Invites: invite.New(accounts),
			KeyService: &apikey.Service{Store: st, Now: d.Now}, Live: hub,
		},
		Logger: logger, Introspection: !cfg.Production(), Limits: limits.Default(),
		Authenticate: authenticate, CORSOrigins: cfg.CORSOrigins,
		DirectAnswers: cfg.DirectAnswers, DirectAnswered: direct,
	})
	if err != nil {
		hub.Close()
		st.Close()
		return nil, err
	}
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "quire_db_statements_total", Help: "SQL statements the app's pool sent PostgreSQL.",
		}, func() float64 { return float64(st.Stats().Statements()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "quire_db_round_trips_total", Help: "Round trips the app's pool made to PostgreSQL (a pipeline is one).",
		}, func() float64 { return float64(st.Stats().RoundTrips()) }),
	)
	hc := httpserver.Config{
		Logger: logger, GraphQL: gql, Ready: st.Ping,
		Authenticate: authenticate,
		KeyRateLimit: cfg.KeyRateLimit, KeyRateBurst: cfg.KeyRateBurst,
		CORSOrigins: cfg.CORSOrigins, RateLimit: cfg.RateLimit, RateBurst: cfg.RateBurst, TrustedProxies: cfg.TrustedProxies,
		Registry: reg, Pages: web.Handler(), RequestTimeout: cfg.RequestTimeout,
	}
	if !cfg.Production() {
		hc.Playground = playground.Handler("Quire", "/graphql", playground.WithStoragePrefix(web.StoragePrefix))
	}
	return &app{store: st, accounts: accounts, keys: keys, live: hub, notes: notes, handler: httpserver.New(hc), direct: direct}, nil
}

// Close waits for mail and key-use records under way and closes the pool.
func (a *app) Close() {
	a.live.Close()
	a.accounts.Wait()
	a.keys.Wait()
	a.store.Close()
}

// newMailer picks delivery from the configuration: SMTP and/or a mail
// directory; with neither, in development only, the log (so a newcomer can
// sign in from the terminal).
func newMailer(cfg config.Config, logger *slog.Logger) (mail.Mailer, error) {
	var ms []mail.Mailer
	if cfg.SMTPURL != "" {
		m, err := mail.NewSMTP(cfg.SMTPURL, cfg.MailFrom)
		if err != nil {
			return nil, fmt.Errorf("QUIRE_SMTP_URL: %w", err)
		}
		ms = append(ms, m)
	}
	if cfg.MailDir != "" {
		m, err := mail.NewDir(cfg.MailDir)
		if err != nil {
			return nil, fmt.Errorf("QUIRE_MAIL_DIR: %w", err)
		}
		ms = append(ms, m)
	}
	if len(ms) == 0 {
		if cfg.Production() {
			logger.Warn("no mail delivery configured: set QUIRE_SMTP_URL; sign-in links cannot reach anyone")
		} else {
			ms = append(ms, mail.NewLog(logger))
		}
	}
	return mail.Multi(ms...), nil
}

// newLogger builds the one logger, in the configured format.
func newLogger(cfg config.Config, w *os.File) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
