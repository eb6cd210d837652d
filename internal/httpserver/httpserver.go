// Package httpserver is Quire's HTTP front door: it wraps the GraphQL handler
// in the middleware every request needs (request id, panic recovery, metrics
// and access log, CORS, rate limit, request checks, authentication) and serves
// it beside the playground, /healthz, /readyz and /metrics.
//
// Errors raised here, before GraphQL runs, have the GraphQL response shape
// {"errors":[{"message":…,"extensions":{"code":…}}]} (API.md, "Errors").
package httpserver

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/quirehq/quire/internal/authn"
	"github.com/quirehq/quire/internal/qerr"
)

// readyTimeout bounds the readiness probe, so a hung database answers 503
// before the orchestrator's own probe times out.
const readyTimeout = 2 * time.Second

// Config is what New needs. Only GraphQL is required; a nil Logger discards,
// a nil Registry gets a private one.
type Config struct {
	Logger *slog.Logger
	// GraphQL serves POST, GET (persisted queries) and websocket upgrades
	// on /graphql.
	GraphQL http.Handler
	// Playground is served at GET /; nil (production) makes / a 404.
	Playground http.Handler
	// Pages serves the pages sign-in and invitation links land on, GET
	// /login and /invite, and their scripts /login.js and /invite.js; nil
	// makes them 404.
	Pages http.Handler
	// Ready reports whether the database is reachable, for /readyz. Nil
	// means always ready.
	Ready func(ctx context.Context) error
	// Authenticate turns an Authorization header value into an identity.
	// Its errors must not contain the credential: they are logged. Nil
	// disables authentication.
	Authenticate func(ctx context.Context, authorization string) (authn.Identity, error)
	// CORSOrigins are the exact origins allowed to call /graphql from a
	// browser; "*" allows any.
	CORSOrigins []string
	// RateLimit is the sustained requests per second allowed per client IP
	// on /graphql; 0 disables the limit. RateBurst below 1 counts as 1.
	RateLimit float64
	RateBurst int
	// KeyRateLimit is the sustained requests per second allowed per API
	// key on /graphql, after authentication; 0 disables it.
	KeyRateLimit float64
	KeyRateBurst int
	// Registry receives the HTTP, Go and process metrics and is served at
	// /metrics.
	Registry *prometheus.Registry
	// TrustedProxies are the peers whose X-Forwarded-For names the client
	// (QUIRE_TRUSTED_PROXIES): the per-IP rate limit, the access log and
	// the per-IP sign-in link limit use that client. Empty: the peer is
	// the client, and forwarding headers are ignored, since anyone can
	// send them.
	TrustedProxies []netip.Prefix
	// RequestTimeout is the deadline of each /graphql request's context,
	// authentication included; websocket upgrades have none. Zero means
	// no deadline.
	RequestTimeout time.Duration
}

// New returns the server's root handler. The middleware runs, outermost
// first: security headers, request id, recover, metrics and access log, then
// routing; /graphql adds the request deadline, CORS, rate limit, request
// checks and authentication.
// It panics if the metrics cannot be registered (a wiring bug).
func New(cfg Config) http.Handler {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	rt := &router{
		graphql:    graphQLChain(cfg, logger),
		playground: cfg.Playground,
		pages:      cfg.Pages,
		ready:      cfg.Ready,
		metrics:    promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		logger:     logger,
	}
	var h http.Handler = rt
	h = newMetrics(reg).observe(logger, h)
	h = recoverPanics(logger, h)
	h = withRequestID(proxies(cfg.TrustedProxies), h)
	return secureHeaders(h)
}

// graphQLChain wraps cfg.GraphQL in the middleware only /graphql gets.
func graphQLChain(cfg Config, logger *slog.Logger) http.Handler {
	var h http.Handler = http.HandlerFunc(notFound)
	if cfg.GraphQL != nil {
		h = cfg.GraphQL
	}
	var keys *limiter
	if cfg.KeyRateLimit > 0 {
		keys = newLimiter(cfg.KeyRateLimit, cfg.KeyRateBurst)
	}
	h = authenticate(cfg.Authenticate, keys, logger, h)
	h = precheck(h)
	if cfg.RateLimit > 0 {
		h = newLimiter(cfg.RateLimit, cfg.RateBurst).middleware(h)
	}
	h = newCORS(cfg.CORSOrigins).middleware(h)
	h = withDeadline(cfg.RequestTimeout, h)
	return noStore(h)
}

// router maps the fixed set of paths (the same set routeName knows) to their
// handlers; anything else is a JSON 404.
type router struct {
	graphql    http.Handler
	playground http.Handler
	pages      http.Handler
	ready      func(ctx context.Context) error
	metrics    http.Handler
	logger     *slog.Logger
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case routeGraphQL:
		rt.graphql.ServeHTTP(w, r)
	case routeRoot:
		if rt.playground == nil {
			notFound(w, r)
		} else if requireGET(w, r) {
			rt.playground.ServeHTTP(w, r)
		}
	case routeLogin, routeLoginJS, routeInvite, routeInviteJS:
		if rt.pages == nil {
			notFound(w, r)
		} else {
			rt.pages.ServeHTTP(w, r)
		}
	case routeHealthz:
		if requireGET(w, r) {
			writeStatus(w, http.StatusOK, "ok")
		}
	case routeReadyz:
		if requireGET(w, r) {
			rt.serveReady(w, r)
		}
	case routeMetrics:
		if requireGET(w, r) {
			rt.metrics.ServeHTTP(w, r)
		}
	default:
		notFound(w, r)
	}
}

// serveReady answers 200 when the database is reachable and 503 otherwise.
// The cause goes to the log only: it may name hosts and roles.
func (rt *router) serveReady(w http.ResponseWriter, r *http.Request) {
	if rt.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := rt.ready(ctx); err != nil {
			rt.logger.WarnContext(r.Context(), "not ready",
				slog.String("request_id", requestID(r)), slog.String("error", err.Error()))
			writeStatus(w, http.StatusServiceUnavailable, "unavailable")
			return
		}
	}
	writeStatus(w, http.StatusOK, "ok")
}

// requireGET answers 405 to anything but GET and reports whether to go on.
func requireGET(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet {
		return true
	}
	methodNotAllowed(w, http.MethodGet)
	return false
}

func notFound(w http.ResponseWriter, _ *http.Request) {
	WriteError(w, http.StatusNotFound, qerr.NotFound, "not found", nil)
}
