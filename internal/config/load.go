package config

import (
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// loader reads variables and collects every problem, so one run of the binary reports them all.
type loader struct {
	getenv func(string) string
	errs   []error
}

// fail records a problem with variable name. Callers must not pass a secret's value in args.
func (l *loader) fail(name, format string, args ...any) {
	l.errs = append(l.errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

// value returns the trimmed variable, or def when it is unset or empty.
func (l *loader) value(name, def string) string {
	if v := strings.TrimSpace(l.getenv(name)); v != "" {
		return v
	}
	return def
}

// oneOf returns the lowercased variable if it is one of allowed, else records an error.
func (l *loader) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(l.value(name, def))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	l.fail(name, "%q is not one of %s", v, strings.Join(allowed, ", "))
	return ""
}

func (l *loader) addr() string {
	v := l.value("QUIRE_ADDR", "127.0.0.1:8080")
	if _, _, ok := splitHostPort(v); !ok {
		l.fail("QUIRE_ADDR", "%q is not host:port", v)
		return ""
	}
	return v
}

// pprofAddr reads QUIRE_PPROF_ADDR: a loopback host:port, since the profiler
// shows the process's memory and must never face a network.
func (l *loader) pprofAddr() string {
	v := l.value("QUIRE_PPROF_ADDR", "")
	if v == "" {
		return ""
	}
	host, _, ok := splitHostPort(v)
	if ip := net.ParseIP(host); !ok || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
		l.fail("QUIRE_PPROF_ADDR", "%q is not a loopback host:port (127.0.0.1:6060, say)", v)
		return ""
	}
	return v
}

// splitHostPort is net.SplitHostPort that also requires a numeric port (0 included: any free port).
func splitHostPort(v string) (host, port string, ok bool) {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return "", "", false
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", "", false
	}
	return host, port, true
}

// databaseURLs reads both database URLs. Their values hold passwords, so no message quotes them.
func (l *loader) databaseURLs(env Env) (app, owner string) {
	app, owner = l.value("DATABASE_URL", ""), l.value("DATABASE_MIGRATE_URL", "")
	if app != "" && !isPostgresURL(app) {
		l.fail("DATABASE_URL", "not a postgres:// or postgresql:// URL")
	}
	if owner != "" && !isPostgresURL(owner) {
		l.fail("DATABASE_MIGRATE_URL", "not a postgres:// or postgresql:// URL")
	}
	switch {
	case app != "" && owner == "":
		l.fail("DATABASE_MIGRATE_URL", "required when DATABASE_URL is set (the owner role runs migrations)")
	case app == "" && owner != "":
		l.fail("DATABASE_MIGRATE_URL", "set without DATABASE_URL (the embedded database needs neither)")
	}
	if env == Production && app == "" {
		l.fail("DATABASE_URL", "required in production (the embedded database is for development)")
	}
	return app, owner
}

// listenURL defaults to the app's URL, which is right unless that URL goes through a transaction
// pooler. Its value holds a password, so no message quotes it.
func (l *loader) listenURL(app string) string {
	const name = "QUIRE_LISTEN_DATABASE_URL"
	v := l.value(name, "")
	switch {
	case v == "":
		return app
	case app == "":
		l.fail(name, "set without DATABASE_URL (the embedded database needs neither)")
	case !isPostgresURL(v):
		l.fail(name, "not a postgres:// or postgresql:// URL")
	}
	return v
}

func isPostgresURL(v string) bool {
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql")
}

// publicURL defaults to http://<QUIRE_ADDR>, naming localhost when the address listens on all
// interfaces, since a link to 0.0.0.0 or an empty host means nothing in a mail.
func (l *loader) publicURL(addr string) string {
	def := ""
	if host, port, ok := splitHostPort(addr); ok {
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			host = "localhost"
		}
		def = "http://" + net.JoinHostPort(host, port)
	}
	v := l.value("QUIRE_PUBLIC_URL", def)
	if v == "" {
		return "" // QUIRE_ADDR is invalid and already reported
	}
	if problem := publicURLProblem(v); problem != "" {
		l.fail("QUIRE_PUBLIC_URL", "%s", problem)
		return ""
	}
	return v
}

func publicURLProblem(v string) string {
	u, err := url.Parse(v)
	switch {
	case err != nil:
		return "not a URL"
	case u.User != nil:
		return fmt.Sprintf("%q must not contain user info", u.Redacted())
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return fmt.Sprintf("%q is not an absolute http(s) URL", v)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return fmt.Sprintf("%q must not have a query or fragment (links append /login?token=…)", v)
	case strings.HasSuffix(v, "/"):
		return fmt.Sprintf("%q must not end with a slash", v)
	}
	return ""
}

// jwtSecret reads the signing key verbatim (no trimming: every byte is key material).
func (l *loader) jwtSecret(env Env) []byte {
	const name = "QUIRE_JWT_SECRET"
	s := l.getenv(name)
	weak := ""
	if env == Production {
		weak = weakness(s)
	}
	switch {
	case s == "" && env == Production:
		l.fail(name, "required in production (a generated development secret would not survive a redeploy)")
	case s == "":
	case len(s) < minSecretLen:
		l.fail(name, "must be at least %d bytes", minSecretLen)
	case weak != "":
		l.fail(name, "too weak for production: %s", weak)
	default:
		return []byte(s)
	}
	return nil
}

// smtpURL checks the form only; the mail package dials it. The value holds a password, so no
// message quotes it.
func (l *loader) smtpURL() string {
	v := l.value("QUIRE_SMTP_URL", "")
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "smtp" && u.Scheme != "smtps" || u.Hostname() == "" || u.Port() == "" {
		l.fail("QUIRE_SMTP_URL", "not smtp://user:pass@host:port (scheme smtp or smtps, host and port required)")
		return ""
	}
	if _, _, ok := splitHostPort(u.Host); !ok {
		l.fail("QUIRE_SMTP_URL", "the port is not a number")
		return ""
	}
	return v
}

// mailFrom defaults to "Quire <no-reply@HOST>" with the public URL's host.
func (l *loader) mailFrom(publicURL string) string {
	def := ""
	if u, err := url.Parse(publicURL); publicURL != "" && err == nil {
		host := u.Hostname()
		if strings.Contains(host, ":") {
			host = "[" + host + "]" // an IPv6 address is a domain literal in a mail address
		}
		def = "Quire <no-reply@" + host + ">"
	}
	v := l.value("QUIRE_MAIL_FROM", def)
	if v == "" {
		return "" // QUIRE_PUBLIC_URL is invalid and already reported
	}
	if _, err := mail.ParseAddress(v); err != nil || strings.ContainsAny(v, "\r\n") {
		l.fail("QUIRE_MAIL_FROM", "%q is not a mail address like \"Quire <no-reply@example.com>\"", v)
		return ""
	}
	return v
}

// corsOrigins lowercases each origin, because browsers send the Origin header in lowercase and the
// comparison is exact.
func (l *loader) corsOrigins(env Env) []string {
	const name = "QUIRE_CORS_ORIGINS"
	v := l.value(name, "")
	if v == "" {
		return nil
	}
	var origins []string
	for o := range strings.SplitSeq(v, ",") {
		o = strings.ToLower(strings.TrimSpace(o))
		switch {
		case o == "*" && env == Production:
			l.fail(name, `"*" is not allowed in production`)
		case o != "*" && !isOrigin(o):
			l.fail(name, "%q is not an origin like https://app.example.com[:port] (no path)", o)
		default:
			origins = append(origins, o)
		}
	}
	return origins
}

// trustedProxies reads QUIRE_TRUSTED_PROXIES: addresses (10.0.0.7) or
// prefixes (10.0.0.0/8, fd00::/8). A prefix with host bits set is refused,
// since it usually means a typo.
func (l *loader) trustedProxies() []netip.Prefix {
	const name = "QUIRE_TRUSTED_PROXIES"
	v := l.value(name, "")
	if v == "" {
		return nil
	}
	var out []netip.Prefix
	for s := range strings.SplitSeq(v, ",") {
		s = strings.TrimSpace(s)
		if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		switch {
		case err != nil:
			l.fail(name, "%q is not an address or a prefix like 10.0.0.0/8", s)
		case p != p.Masked():
			l.fail(name, "%q has bits set past its prefix length; did you mean %s?", s, p.Masked())
		default:
			out = append(out, p)
		}
	}
	return out
}

func isOrigin(o string) bool {
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Hostname() == "" || u.Opaque != "" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return false
	}
	if u.Port() != "" {
		_, _, ok := splitHostPort(u.Host)
		return ok
	}
	return !strings.HasSuffix(u.Host, ":")
}

func (l *loader) logLevel() slog.Level {
	levels := map[string]slog.Level{
		"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
	}
	v := strings.ToLower(l.value("QUIRE_LOG_LEVEL", "info"))
	level, ok := levels[v]
	if !ok {
		l.fail("QUIRE_LOG_LEVEL", "%q is not one of debug, info, warn, error", v)
	}
	return level
}

func (l *loader) rateLimit(name, def string) float64 {
	v := l.value(name, def)
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		l.fail(name, "%q is not a number of requests per second ≥ 0 (0 disables)", v)
		return 0
	}
	return f
}

func (l *loader) rateBurst(name, def, limitName string, limit float64) int {
	v := l.value(name, def)
	n, err := strconv.Atoi(v)
	switch {
	case err != nil || n < 0:
		l.fail(name, "%q is not a whole number ≥ 0", v)
	case n == 0 && limit > 0:
		// A token bucket of size 0 refuses every request.
		l.fail(name, "must be at least 1 while %s is above 0", limitName)
	}
	return n
}

// positiveDuration reads a Go duration above zero.
func (l *loader) positiveDuration(name, def string) time.Duration {
	v := l.value(name, def)
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		l.fail(name, "%q is not a positive Go duration like %s", v, def)
		return 0
	}
	return d
}

func (l *loader) refreshTTL() time.Duration {
	v := l.value("QUIRE_REFRESH_TTL", "720h")
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		l.fail("QUIRE_REFRESH_TTL", "%q is not a positive Go duration like 720h", v)
		return 0
	}
	return d
}

// count reads a limit that must be a whole number from 1 to 10,000.
func (l *loader) count(name, def string) int {
	v := l.value(name, def)
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 10_000 {
		l.fail(name, "%q is not a whole number from 1 to 10000", v)
		return 0
	}
	return n
}
