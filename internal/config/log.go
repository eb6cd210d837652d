package config

import (
	"log/slog"
	"net/url"
	"strings"
)

const redacted = "[redacted]"

// LogValue implements slog.LogValuer: the non-secret settings, with passwords in the database and
// SMTP URLs replaced and the JWT secret shown only as set or unset.
func (c Config) LogValue() slog.Value {
	secret := "unset"
	if len(c.JWTSecret) > 0 {
		secret = redacted
	}
	return slog.GroupValue(
		slog.String("env", string(c.Env)),
		slog.String("addr", c.Addr),
		slog.String("public_url", c.PublicURL),
		slog.String("database_url", redactURL(c.DatabaseURL)),
		slog.String("migrate_url", redactURL(c.MigrateURL)),
		slog.String("listen_url", redactURL(c.ListenURL)),
		slog.String("data_dir", c.DataDir),
		slog.String("jwt_secret", secret),
		slog.String("smtp_url", redactURL(c.SMTPURL)),
		slog.String("mail_from", c.MailFrom),
		slog.String("mail_dir", c.MailDir),
		slog.Any("cors_origins", c.CORSOrigins),
		slog.String("log_format", c.LogFormat),
		slog.String("log_level", c.LogLevel.String()),
		slog.Float64("rate_limit", c.RateLimit),
		slog.Int("rate_burst", c.RateBurst),
		slog.Any("trusted_proxies", c.TrustedProxies),
		slog.String("refresh_ttl", c.RefreshTTL.String()),
	)
}

// String shows what LogValue shows, so printing a Config with fmt cannot leak a secret either.
func (c Config) String() string { return c.LogValue().String() }

// redactURL replaces the password in raw's user info and in any query parameter whose name contains
// "password" (libpq accepts ?password= and ?sslpassword=). A URL that does not parse is hidden whole.
func redactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return redacted
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			if strings.Contains(strings.ToLower(k), "password") {
				q.Set(k, redacted)
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.Redacted() // user:xxxxx@host
}
