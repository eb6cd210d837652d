// Package config reads Quire's configuration from the environment (the table in API.md, "Running it"),
// fills in the development defaults and validates every variable, reporting all problems at once.
//
// Secrets (database passwords, the JWT signing key, the SMTP password) never appear in an error
// message or in the log: errors name the variable only, and Config's LogValue redacts them.
package config

import (
	"errors"
	"log/slog"
	"net/netip"
	"time"
)

// Env is the deployment environment, QUIRE_ENV.
type Env string

// The two environments. Load refuses, in production, the embedded database, a missing or weak
// signing key and a "*" CORS origin; the playground, introspection and the log mailer are the
// caller's to switch off (Config.Production).
const (
	Development Env = "development"
	Production  Env = "production"
)

// Config is the validated configuration of one Quire process. Load is the only constructor.
type Config struct {
	Addr        string // QUIRE_ADDR: listen address, host:port (port may be 0)
	DatabaseURL string // DATABASE_URL: app role; empty means the embedded development database
	MigrateURL  string // DATABASE_MIGRATE_URL: owner role, for migrations; set iff DatabaseURL is
	// ListenURL is the app role's URL for the live-updates LISTEN connection
	// (QUIRE_LISTEN_DATABASE_URL, default DatabaseURL). LISTEN needs a
	// session of its own: through a transaction pooler such as PgBouncer in
	// transaction mode, the server connection that ran LISTEN goes back to
	// the pool and the notifications go to whoever has it next.
	ListenURL   string
	DataDir     string     // QUIRE_DATA_DIR: embedded cluster and development secrets
	PublicURL   string     // QUIRE_PUBLIC_URL: base of links in mails, no trailing slash
	JWTSecret   []byte     // QUIRE_JWT_SECRET: HS256 key; empty in development means DevSecret
	SMTPURL     string     // QUIRE_SMTP_URL: smtp:// or smtps://user:pass@host:port
	MailFrom    string     // QUIRE_MAIL_FROM: From header of outgoing mail
	MailDir     string     // QUIRE_MAIL_DIR: if set, every mail is also written there as JSON
	CORSOrigins []string   // QUIRE_CORS_ORIGINS: origins allowed to call /graphql from a browser
	Env         Env        // QUIRE_ENV
	LogFormat   string     // QUIRE_LOG_FORMAT: "text" or "json"
	LogLevel    slog.Level // QUIRE_LOG_LEVEL
	RateLimit   float64    // QUIRE_RATE_LIMIT: requests per second per client IP; 0 disables
	RateBurst   int        // QUIRE_RATE_BURST
	// TrustedProxies are the proxies whose X-Forwarded-For names the client
	// (QUIRE_TRUSTED_PROXIES: addresses or CIDR prefixes, comma-separated;
	// unset: none, and the TCP peer is the client).
	TrustedProxies []netip.Prefix
	// KeyRateLimit and KeyRateBurst limit each API key (QUIRE_KEY_RATE_LIMIT,
	// QUIRE_KEY_RATE_BURST), defaults 20/s and 40; 0 disables.
	KeyRateLimit float64
	KeyRateBurst int
	RefreshTTL   time.Duration // QUIRE_REFRESH_TTL: how long an unused refresh token stays valid
	// DBMaxConns is the app pool's size (QUIRE_DB_MAX_CONNS, default 10):
	// pgx's own default is the number of CPUs, which starves a small
	// machine's server of connections under concurrent load.
	DBMaxConns int
	// TrashRetention is how long a trashed note stays restorable before the
	// purge job deletes it (QUIRE_TRASH_RETENTION, default 720h).
	TrashRetention time.Duration
	// MaxSubscriptionsPerConnection and MaxSubscriptionsPerUser cap live
	// subscriptions (QUIRE_MAX_SUBSCRIPTIONS_PER_CONNECTION, default 10;
	// QUIRE_MAX_SUBSCRIPTIONS_PER_USER, default 50, across this process).
	MaxSubscriptionsPerConnection int
	MaxSubscriptionsPerUser       int
	// PprofAddr, if set, serves Go's profiler (net/http/pprof) on this
	// loopback host:port, apart from the API (QUIRE_PPROF_ADDR; off by
	// default). docs/performance.md profiles the server under load with it.
	PprofAddr string
	// DirectAnswers lets the GraphQL handler write a list of notes itself
	// instead of through gqlgen's general executor (graph/direct.go;
	// QUIRE_DIRECT_ANSWERS, on or off, default on). Off is a switch for
	// ruling it out, not a setting anyone should need.
	DirectAnswers bool
	// Deadlines, so that no slow client, request or query holds a
	// connection for ever. RequestTimeout bounds each HTTP request's
	// context (QUIRE_REQUEST_TIMEOUT, default 10s; websockets excepted);
	// HTTPReadTimeout bounds reading a request, body included
	// (QUIRE_HTTP_READ_TIMEOUT, 15s); HTTPWriteTimeout bounds a request from
	// its headers to the end of its response (QUIRE_HTTP_WRITE_TIMEOUT,
	// 20s) and must exceed RequestTimeout, or a timed-out request could not
	// say so; HTTPIdleTimeout closes idle keep-alive connections
	// (QUIRE_HTTP_IDLE_TIMEOUT, 2m); ShutdownTimeout is how long a stopping
	// server lets in-flight requests finish (QUIRE_SHUTDOWN_TIMEOUT, 15s).
	RequestTimeout   time.Duration
	HTTPReadTimeout  time.Duration
	HTTPWriteTimeout time.Duration
	HTTPIdleTimeout  time.Duration
	ShutdownTimeout  time.Duration
	// DBStatementTimeout and DBIdleInTxTimeout are the app pool's
	// statement_timeout and idle_in_transaction_session_timeout
	// (QUIRE_DB_STATEMENT_TIMEOUT, QUIRE_DB_IDLE_TX_TIMEOUT, both 10s): the
	// database's own guard for work no request waits for any more.
	DBStatementTimeout time.Duration
	DBIdleInTxTimeout  time.Duration
}

// Production reports whether Quire runs with QUIRE_ENV=production.
func (c Config) Production() bool { return c.Env == Production }

// Embedded reports whether Quire uses the embedded development database (DATABASE_URL unset).
func (c Config) Embedded() bool { return c.DatabaseURL == "" }

// Load reads the configuration through getenv (os.Getenv in main, a map in tests), applies the
// defaults and validates every variable. On failure it returns the zero Config and one error per
// problem, joined with errors.Join; each starts with the variable's name. An empty variable counts
// as unset.
func Load(getenv func(string) string) (Config, error) {
	l := &loader{getenv: getenv}
	var c Config
	c.Env = Env(l.oneOf("QUIRE_ENV", string(Development), string(Development), string(Production)))
	c.Addr = l.addr()
	c.DatabaseURL, c.MigrateURL = l.databaseURLs(c.Env)
	c.ListenURL = l.listenURL(c.DatabaseURL)
	c.DataDir = l.value("QUIRE_DATA_DIR", ".quire")
	c.PublicURL = l.publicURL(c.Addr)
	c.JWTSecret = l.jwtSecret(c.Env)
	c.SMTPURL = l.smtpURL()
	c.MailFrom = l.mailFrom(c.PublicURL)
	c.MailDir = l.value("QUIRE_MAIL_DIR", "")
	c.CORSOrigins = l.corsOrigins(c.Env)
	c.LogFormat = l.oneOf("QUIRE_LOG_FORMAT", "text", "text", "json")
	c.LogLevel = l.logLevel()
	c.RateLimit = l.rateLimit("QUIRE_RATE_LIMIT", "50")
	c.RateBurst = l.rateBurst("QUIRE_RATE_BURST", "100", "QUIRE_RATE_LIMIT", c.RateLimit)
	c.TrustedProxies = l.trustedProxies()
	c.KeyRateLimit = l.rateLimit("QUIRE_KEY_RATE_LIMIT", "20")
	c.KeyRateBurst = l.rateBurst("QUIRE_KEY_RATE_BURST", "40", "QUIRE_KEY_RATE_LIMIT", c.KeyRateLimit)
	c.RefreshTTL = l.refreshTTL()
	c.TrashRetention = l.positiveDuration("QUIRE_TRASH_RETENTION", "720h")
	c.DBMaxConns = l.count("QUIRE_DB_MAX_CONNS", "10")
	c.MaxSubscriptionsPerConnection = l.count("QUIRE_MAX_SUBSCRIPTIONS_PER_CONNECTION", "10")
	c.MaxSubscriptionsPerUser = l.count("QUIRE_MAX_SUBSCRIPTIONS_PER_USER", "50")
	c.PprofAddr = l.pprofAddr()
	c.DirectAnswers = l.oneOf("QUIRE_DIRECT_ANSWERS", "on", "on", "off") == "on"
	c.RequestTimeout = l.positiveDuration("QUIRE_REQUEST_TIMEOUT", "10s")
	c.HTTPReadTimeout = l.positiveDuration("QUIRE_HTTP_READ_TIMEOUT", "15s")
	c.HTTPWriteTimeout = l.positiveDuration("QUIRE_HTTP_WRITE_TIMEOUT", "20s")
	if c.RequestTimeout > 0 && c.HTTPWriteTimeout > 0 && c.HTTPWriteTimeout <= c.RequestTimeout {
		l.fail("QUIRE_HTTP_WRITE_TIMEOUT", "%s must exceed QUIRE_REQUEST_TIMEOUT (%s), or a request cut by its deadline cannot be answered",
			c.HTTPWriteTimeout, c.RequestTimeout)
	}
	c.HTTPIdleTimeout = l.positiveDuration("QUIRE_HTTP_IDLE_TIMEOUT", "2m")
	c.ShutdownTimeout = l.positiveDuration("QUIRE_SHUTDOWN_TIMEOUT", "15s")
	c.DBStatementTimeout = l.positiveDuration("QUIRE_DB_STATEMENT_TIMEOUT", "10s")
	c.DBIdleInTxTimeout = l.positiveDuration("QUIRE_DB_IDLE_TX_TIMEOUT", "10s")
	if err := errors.Join(l.errs...); err != nil {
		return Config{}, err
	}
	return c, nil
}
