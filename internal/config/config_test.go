package config_test

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/quirehq/quire/internal/config"
)

// strongSecret is a production-grade key for tests: 40 bytes, many distinct, no pattern.
const strongSecret = "k7Qp2Zr9XvLm4Tn8WbYc6Hd3Jf5Gs1Ae0RuPo!z"

// env turns a map into a getenv func; missing keys read as unset.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// production returns a valid production environment with overrides applied ("" deletes a key).
func production(overrides map[string]string) map[string]string {
	m := map[string]string{
		"QUIRE_ENV":            "production",
		"DATABASE_URL":         "postgres://quire_app:app-pw@db.internal:5432/quire",
		"DATABASE_MIGRATE_URL": "postgres://quire_owner:owner-pw@db.internal:5432/quire",
		"QUIRE_JWT_SECRET":     strongSecret,
		"QUIRE_PUBLIC_URL":     "https://notes.example.com",
	}
	for k, v := range overrides {
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return m
}

func defaults() config.Config {
	return config.Config{
		Addr:         "127.0.0.1:8080",
		DataDir:      ".quire",
		PublicURL:    "http://127.0.0.1:8080",
		MailFrom:     "Quire <no-reply@127.0.0.1>",
		Env:          config.Development,
		LogFormat:    "text",
		LogLevel:     slog.LevelInfo,
		RateLimit:    50,
		RateBurst:    100,
		KeyRateLimit: 20,
		KeyRateBurst: 40,
		RefreshTTL:   720 * time.Hour,

		TrashRetention: 720 * time.Hour,

		DBMaxConns:                    10,
		MaxSubscriptionsPerConnection: 10,
		MaxSubscriptionsPerUser:       50,
		DirectAnswers:                 true,

		RequestTimeout:     10 * time.Second,
		HTTPReadTimeout:    15 * time.Second,
		HTTPWriteTimeout:   20 * time.Second,
		HTTPIdleTimeout:    2 * time.Minute,
		ShutdownTimeout:    15 * time.Second,
		DBStatementTimeout: 10 * time.Second,
		DBIdleInTxTimeout:  10 * time.Second,
	}
}

// hexWithoutF is a 64-digit hex key that never uses the digit f, as random `openssl rand -hex 32`
// output often does not: its 32 encoded bytes are all distinct.
func hexWithoutF() string {
	var b []byte
	for i := 0; len(b) < 32; i++ {
		if i&0x0f != 0x0f && i&0xf0 != 0xf0 {
			b = append(b, byte(i))
		}
	}
	return hex.EncodeToString(b)
}

// prefixes compares netip.Prefix values, whose fields are unexported.
var prefixes = cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })

func TestLoad(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want func(c *config.Config)
	}{
		{name: "defaults", env: nil, want: func(c *config.Config) {}},
		{
			name: "every variable set",
			env: map[string]string{
				"QUIRE_ADDR": "0.0.0.0:9000", "QUIRE_DATA_DIR": "/var/lib/quire",
				"DATABASE_URL": "postgres://app:pw@db/quire", "DATABASE_MIGRATE_URL": "postgresql://owner:pw@db/quire",
				"QUIRE_PUBLIC_URL": "https://notes.example.com/quire", "QUIRE_JWT_SECRET": strongSecret,
				"QUIRE_SMTP_URL": "smtps://mailer:pw@smtp.example.com:465", "QUIRE_MAIL_FROM": "Notes <notes@example.com>",
				"QUIRE_MAIL_DIR": "/tmp/mail", "QUIRE_CORS_ORIGINS": " https://App.example.com , http://localhost:5173",
				"QUIRE_ENV": "Production", "QUIRE_LOG_FORMAT": "JSON", "QUIRE_LOG_LEVEL": "debug",
				"QUIRE_RATE_LIMIT": "2.5", "QUIRE_RATE_BURST": "5", "QUIRE_REFRESH_TTL": "24h",
				"QUIRE_KEY_RATE_LIMIT": "1.5", "QUIRE_KEY_RATE_BURST": "3", "QUIRE_TRASH_RETENTION": "48h",
				"QUIRE_MAX_SUBSCRIPTIONS_PER_CONNECTION": "2", "QUIRE_MAX_SUBSCRIPTIONS_PER_USER": "7",
				"QUIRE_DB_MAX_CONNS": "16", "QUIRE_LISTEN_DATABASE_URL": "postgres://app:pw@db-primary/quire",
				"QUIRE_REQUEST_TIMEOUT": "3s", "QUIRE_HTTP_READ_TIMEOUT": "4s", "QUIRE_HTTP_WRITE_TIMEOUT": "5s",
				"QUIRE_HTTP_IDLE_TIMEOUT": "6s", "QUIRE_SHUTDOWN_TIMEOUT": "7s",
				"QUIRE_DB_STATEMENT_TIMEOUT": "1500ms", "QUIRE_DB_IDLE_TX_TIMEOUT": "2s",
				"QUIRE_DIRECT_ANSWERS": "off", "QUIRE_TRUSTED_PROXIES": " 10.0.0.0/8, 192.0.2.7 ,fd00::/8,::ffff:192.0.2.8",
			},
			want: func(c *config.Config) {
				*c = config.Config{
					Addr: "0.0.0.0:9000", DatabaseURL: "postgres://app:pw@db/quire",
					MigrateURL: "postgresql://owner:pw@db/quire", ListenURL: "postgres://app:pw@db-primary/quire",
					DataDir:   "/var/lib/quire",
					PublicURL: "https://notes.example.com/quire", JWTSecret: []byte(strongSecret),
					SMTPURL: "smtps://mailer:pw@smtp.example.com:465", MailFrom: "Notes <notes@example.com>",
					MailDir: "/tmp/mail", CORSOrigins: []string{"https://app.example.com", "http://localhost:5173"},
					Env: config.Production, LogFormat: "json", LogLevel: slog.LevelDebug,
					RateLimit: 2.5, RateBurst: 5, KeyRateLimit: 1.5, KeyRateBurst: 3, RefreshTTL: 24 * time.Hour,
					TrashRetention:                48 * time.Hour,
					MaxSubscriptionsPerConnection: 2, MaxSubscriptionsPerUser: 7, DBMaxConns: 16,
					RequestTimeout: 3 * time.Second, HTTPReadTimeout: 4 * time.Second, HTTPWriteTimeout: 5 * time.Second,
					HTTPIdleTimeout: 6 * time.Second, ShutdownTimeout: 7 * time.Second,
					DBStatementTimeout: 1500 * time.Millisecond, DBIdleInTxTimeout: 2 * time.Second,
					TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"),
						netip.MustParsePrefix("fd00::/8"), netip.MustParsePrefix("192.0.2.8/32")},
				}
			},
		},
		{
			name: "any free port, all interfaces",
			env:  map[string]string{"QUIRE_ADDR": ":0"},
			want: func(c *config.Config) {
				c.Addr, c.PublicURL, c.MailFrom = ":0", "http://localhost:0", "Quire <no-reply@localhost>"
			},
		},
		{
			name: "IPv6 address",
			env:  map[string]string{"QUIRE_ADDR": "[::1]:8080"},
			want: func(c *config.Config) {
				c.Addr, c.PublicURL, c.MailFrom = "[::1]:8080", "http://[::1]:8080", "Quire <no-reply@[::1]>"
			},
		},
		{
			name: "mail sender follows the public URL",
			env:  map[string]string{"QUIRE_PUBLIC_URL": "https://notes.example.com:8443"},
			want: func(c *config.Config) {
				c.PublicURL, c.MailFrom = "https://notes.example.com:8443", "Quire <no-reply@notes.example.com>"
			},
		},
		{
			name: "development accepts a weak secret and a wildcard origin",
			env:  map[string]string{"QUIRE_JWT_SECRET": strings.Repeat("a", 32), "QUIRE_CORS_ORIGINS": "*"},
			want: func(c *config.Config) {
				c.JWTSecret, c.CORSOrigins = []byte(strings.Repeat("a", 32)), []string{"*"}
			},
		},
		{
			name: "rate limit disabled",
			env:  map[string]string{"QUIRE_RATE_LIMIT": "0", "QUIRE_RATE_BURST": "0"},
			want: func(c *config.Config) { c.RateLimit, c.RateBurst = 0, 0 },
		},
		{
			name: "production accepts a hex key that lacks a digit",
			env:  production(map[string]string{"QUIRE_JWT_SECRET": hexWithoutF(), "QUIRE_PUBLIC_URL": ""}),
			want: func(c *config.Config) {
				c.Env, c.JWTSecret = config.Production, []byte(hexWithoutF())
				c.DatabaseURL = "postgres://quire_app:app-pw@db.internal:5432/quire"
				c.MigrateURL = "postgres://quire_owner:owner-pw@db.internal:5432/quire"
				c.ListenURL = c.DatabaseURL // the default
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := config.Load(env(tc.env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := defaults()
			tc.want(&want)
			if diff := cmp.Diff(want, got, prefixes); diff != "" {
				t.Errorf("Load (-want +got):\n%s", diff)
			}
		})
	}
}

// errorVars returns the variable each line of a joined error names, in order.
func errorVars(err error) []string {
	if err == nil {
		return nil
	}
	var vars []string
	for line := range strings.SplitSeq(err.Error(), "\n") {
		name, _, _ := strings.Cut(line, ": ")
		vars = append(vars, name)
	}
	return vars
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string // the variables named by the error, one per problem
	}{
		{"addr without port", map[string]string{"QUIRE_ADDR": "x"}, []string{"QUIRE_ADDR"}},
		{"addr with named port", map[string]string{"QUIRE_ADDR": "localhost:http"}, []string{"QUIRE_ADDR"}},
		{"addr port out of range", map[string]string{"QUIRE_ADDR": "127.0.0.1:70000"}, []string{"QUIRE_ADDR"}},
		{"database URL not postgres", map[string]string{"DATABASE_URL": "mysql://a:b@h/db", "DATABASE_MIGRATE_URL": "postgres://h/db"}, []string{"DATABASE_URL"}},
		{"migrate URL not postgres", map[string]string{"DATABASE_URL": "postgres://h/db", "DATABASE_MIGRATE_URL": "host=h dbname=db"}, []string{"DATABASE_MIGRATE_URL"}},
		{"migrate URL missing", map[string]string{"DATABASE_URL": "postgres://h/db"}, []string{"DATABASE_MIGRATE_URL"}},
		{"migrate URL alone", map[string]string{"DATABASE_MIGRATE_URL": "postgres://h/db"}, []string{"DATABASE_MIGRATE_URL"}},
		{"listen URL not postgres", map[string]string{"DATABASE_URL": "postgres://h/db", "DATABASE_MIGRATE_URL": "postgres://h/db",
			"QUIRE_LISTEN_DATABASE_URL": "host=h dbname=db"}, []string{"QUIRE_LISTEN_DATABASE_URL"}},
		{"listen URL alone", map[string]string{"QUIRE_LISTEN_DATABASE_URL": "postgres://h/db"}, []string{"QUIRE_LISTEN_DATABASE_URL"}},
		{"public URL relative", map[string]string{"QUIRE_PUBLIC_URL": "notes.example.com"}, []string{"QUIRE_PUBLIC_URL"}},
		{"public URL ftp", map[string]string{"QUIRE_PUBLIC_URL": "ftp://notes.example.com"}, []string{"QUIRE_PUBLIC_URL"}},
		{"public URL trailing slash", map[string]string{"QUIRE_PUBLIC_URL": "https://notes.example.com/"}, []string{"QUIRE_PUBLIC_URL"}},
		{"public URL query", map[string]string{"QUIRE_PUBLIC_URL": "https://notes.example.com?a=1"}, []string{"QUIRE_PUBLIC_URL"}},
		{"public URL fragment", map[string]string{"QUIRE_PUBLIC_URL": "https://notes.example.com#top"}, []string{"QUIRE_PUBLIC_URL"}},
		{"public URL user info", map[string]string{"QUIRE_PUBLIC_URL": "https://u:p@notes.example.com"}, []string{"QUIRE_PUBLIC_URL"}},
		{"secret too short", map[string]string{"QUIRE_JWT_SECRET": "short"}, []string{"QUIRE_JWT_SECRET"}},
		{"smtp wrong scheme", map[string]string{"QUIRE_SMTP_URL": "http://smtp.example.com:25"}, []string{"QUIRE_SMTP_URL"}},
		{"smtp without port", map[string]string{"QUIRE_SMTP_URL": "smtp://smtp.example.com"}, []string{"QUIRE_SMTP_URL"}},
		{"smtp without host", map[string]string{"QUIRE_SMTP_URL": "smtp://:25"}, []string{"QUIRE_SMTP_URL"}},
		{"smtp named port", map[string]string{"QUIRE_SMTP_URL": "smtp://smtp.example.com:smtp"}, []string{"QUIRE_SMTP_URL"}},
		{"mail from not an address", map[string]string{"QUIRE_MAIL_FROM": "Quire"}, []string{"QUIRE_MAIL_FROM"}},
		{"origin with path", map[string]string{"QUIRE_CORS_ORIGINS": "https://app.example.com/"}, []string{"QUIRE_CORS_ORIGINS"}},
		{"trusted proxy not an address", map[string]string{"QUIRE_TRUSTED_PROXIES": "10.0.0.0/8,proxy.internal"}, []string{"QUIRE_TRUSTED_PROXIES"}},
		{"trusted proxy prefix with host bits", map[string]string{"QUIRE_TRUSTED_PROXIES": "10.1.2.3/8"}, []string{"QUIRE_TRUSTED_PROXIES"}},
		{"trusted proxy empty entry", map[string]string{"QUIRE_TRUSTED_PROXIES": "10.0.0.0/8,"}, []string{"QUIRE_TRUSTED_PROXIES"}},
		{"origin without scheme", map[string]string{"QUIRE_CORS_ORIGINS": "app.example.com"}, []string{"QUIRE_CORS_ORIGINS"}},
		{"origin host:port without scheme", map[string]string{"QUIRE_CORS_ORIGINS": "localhost:3000"}, []string{"QUIRE_CORS_ORIGINS"}},
		{"empty origin in list", map[string]string{"QUIRE_CORS_ORIGINS": "https://a.example.com,,https://b.example.com"}, []string{"QUIRE_CORS_ORIGINS"}},
		{"unknown env", map[string]string{"QUIRE_ENV": "staging"}, []string{"QUIRE_ENV"}},
		{"unknown log format", map[string]string{"QUIRE_LOG_FORMAT": "xml"}, []string{"QUIRE_LOG_FORMAT"}},
		{"direct answers neither on nor off", map[string]string{"QUIRE_DIRECT_ANSWERS": "yes"}, []string{"QUIRE_DIRECT_ANSWERS"}},
		{"unknown log level", map[string]string{"QUIRE_LOG_LEVEL": "trace"}, []string{"QUIRE_LOG_LEVEL"}},
		{"negative rate limit", map[string]string{"QUIRE_RATE_LIMIT": "-1"}, []string{"QUIRE_RATE_LIMIT"}},
		{"rate limit NaN", map[string]string{"QUIRE_RATE_LIMIT": "NaN"}, []string{"QUIRE_RATE_LIMIT"}},
		{"rate limit word", map[string]string{"QUIRE_RATE_LIMIT": "fast"}, []string{"QUIRE_RATE_LIMIT"}},
		{"negative burst", map[string]string{"QUIRE_RATE_BURST": "-1"}, []string{"QUIRE_RATE_BURST"}},
		{"zero burst with a limit", map[string]string{"QUIRE_RATE_BURST": "0"}, []string{"QUIRE_RATE_BURST"}},
		{"bad key rate limit", map[string]string{"QUIRE_KEY_RATE_LIMIT": "-2"}, []string{"QUIRE_KEY_RATE_LIMIT"}},
		{"zero key burst with a key limit", map[string]string{"QUIRE_KEY_RATE_BURST": "0"}, []string{"QUIRE_KEY_RATE_BURST"}},
		{"refresh TTL in days", map[string]string{"QUIRE_REFRESH_TTL": "30d"}, []string{"QUIRE_REFRESH_TTL"}},
		{"refresh TTL zero", map[string]string{"QUIRE_REFRESH_TTL": "0s"}, []string{"QUIRE_REFRESH_TTL"}},
		{"trash retention in days", map[string]string{"QUIRE_TRASH_RETENTION": "30d"}, []string{"QUIRE_TRASH_RETENTION"}},
		{"trash retention negative", map[string]string{"QUIRE_TRASH_RETENTION": "-1h"}, []string{"QUIRE_TRASH_RETENTION"}},
		{"empty pool", map[string]string{"QUIRE_DB_MAX_CONNS": "0"}, []string{"QUIRE_DB_MAX_CONNS"}},
		{"request timeout without unit", map[string]string{"QUIRE_REQUEST_TIMEOUT": "10"}, []string{"QUIRE_REQUEST_TIMEOUT"}},
		{"zero read timeout", map[string]string{"QUIRE_HTTP_READ_TIMEOUT": "0s"}, []string{"QUIRE_HTTP_READ_TIMEOUT"}},
		{"write timeout within the request timeout", map[string]string{"QUIRE_REQUEST_TIMEOUT": "30s"},
			[]string{"QUIRE_HTTP_WRITE_TIMEOUT"}},
		{"write timeout equal to the request timeout", map[string]string{"QUIRE_HTTP_WRITE_TIMEOUT": "10s"},
			[]string{"QUIRE_HTTP_WRITE_TIMEOUT"}},
		{"negative idle timeout", map[string]string{"QUIRE_HTTP_IDLE_TIMEOUT": "-1m"}, []string{"QUIRE_HTTP_IDLE_TIMEOUT"}},
		{"shutdown timeout a word", map[string]string{"QUIRE_SHUTDOWN_TIMEOUT": "soon"}, []string{"QUIRE_SHUTDOWN_TIMEOUT"}},
		{"statement timeout zero", map[string]string{"QUIRE_DB_STATEMENT_TIMEOUT": "0"}, []string{"QUIRE_DB_STATEMENT_TIMEOUT"}},
		{"idle transaction timeout in days", map[string]string{"QUIRE_DB_IDLE_TX_TIMEOUT": "1d"}, []string{"QUIRE_DB_IDLE_TX_TIMEOUT"}},
		{"no subscriptions per connection", map[string]string{"QUIRE_MAX_SUBSCRIPTIONS_PER_CONNECTION": "0"},
			[]string{"QUIRE_MAX_SUBSCRIPTIONS_PER_CONNECTION"}},
		{"subscriptions per user a word", map[string]string{"QUIRE_MAX_SUBSCRIPTIONS_PER_USER": "many"},
			[]string{"QUIRE_MAX_SUBSCRIPTIONS_PER_USER"}},
		{
			name: "every problem at once",
			env: map[string]string{
				"QUIRE_ENV": "prod", "QUIRE_ADDR": "x", "DATABASE_URL": "postgres://h/db",
				"QUIRE_JWT_SECRET": "short", "QUIRE_SMTP_URL": "smtp://h", "QUIRE_CORS_ORIGINS": "a.example.com",
				"QUIRE_LOG_FORMAT": "xml", "QUIRE_LOG_LEVEL": "trace", "QUIRE_RATE_LIMIT": "-1",
				"QUIRE_RATE_BURST": "x", "QUIRE_REFRESH_TTL": "1 day",
			},
			want: []string{
				"QUIRE_ENV", "QUIRE_ADDR", "DATABASE_MIGRATE_URL", "QUIRE_JWT_SECRET", "QUIRE_SMTP_URL",
				"QUIRE_CORS_ORIGINS", "QUIRE_LOG_FORMAT", "QUIRE_LOG_LEVEL", "QUIRE_RATE_LIMIT",
				"QUIRE_RATE_BURST", "QUIRE_REFRESH_TTL",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := config.Load(env(tc.env))
			if diff := cmp.Diff(tc.want, errorVars(err)); diff != "" {
				t.Errorf("variables named by %q (-want +got):\n%s", err, diff)
			}
			if diff := cmp.Diff(config.Config{}, got, prefixes); diff != "" {
				t.Errorf("Load returned a config with its error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadProduction(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"valid", production(nil), nil},
		{"no secret", production(map[string]string{"QUIRE_JWT_SECRET": ""}), []string{"QUIRE_JWT_SECRET"}},
		{"no database", production(map[string]string{"DATABASE_URL": "", "DATABASE_MIGRATE_URL": ""}), []string{"DATABASE_URL"}},
		{"short secret", production(map[string]string{"QUIRE_JWT_SECRET": "Zq8!xL2#"}), []string{"QUIRE_JWT_SECRET"}},
		{"one repeated byte", production(map[string]string{"QUIRE_JWT_SECRET": strings.Repeat("a", 64)}), []string{"QUIRE_JWT_SECRET"}},
		{"repeated placeholder", production(map[string]string{"QUIRE_JWT_SECRET": strings.Repeat("changeme", 4)}), []string{"QUIRE_JWT_SECRET"}},
		{"repeated word", production(map[string]string{"QUIRE_JWT_SECRET": strings.Repeat("Secret", 7)}), []string{"QUIRE_JWT_SECRET"}},
		{"repeated long pattern", production(map[string]string{"QUIRE_JWT_SECRET": strings.Repeat("abcdefghijklmnopqrstu", 2)}), []string{"QUIRE_JWT_SECRET"}},
		{"placeholder sentence", production(map[string]string{"QUIRE_JWT_SECRET": "please-CHANGE-ME-before-deploying-to-prod"}), []string{"QUIRE_JWT_SECRET"}},
		{"few distinct bytes", production(map[string]string{"QUIRE_JWT_SECRET": "abcdefghijklmnoabcdefghijklmnoabcdefghijklmnoaa"}), []string{"QUIRE_JWT_SECRET"}},
		{"hex of 16 bytes", production(map[string]string{"QUIRE_JWT_SECRET": "9f86d081884c7d659a2feaa0c55ad015"}), []string{"QUIRE_JWT_SECRET"}},
		{"hex of repeated bytes", production(map[string]string{"QUIRE_JWT_SECRET": strings.Repeat("0011223344556677", 4) + "01"}), []string{"QUIRE_JWT_SECRET"}},
		{"wildcard origin", production(map[string]string{"QUIRE_CORS_ORIGINS": "https://app.example.com,*"}), []string{"QUIRE_CORS_ORIGINS"}},
		{"case-insensitive env", production(map[string]string{"QUIRE_ENV": "PRODUCTION", "QUIRE_JWT_SECRET": ""}), []string{"QUIRE_JWT_SECRET"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Load(env(tc.env))
			if diff := cmp.Diff(tc.want, errorVars(err)); diff != "" {
				t.Errorf("variables named by %q (-want +got):\n%s", err, diff)
			}
			if err == nil && (!c.Production() || c.Embedded()) {
				t.Errorf("Production() = %v, Embedded() = %v; want true, false", c.Production(), c.Embedded())
			}
		})
	}
}

func TestEmbedded(t *testing.T) {
	c, err := config.Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Embedded() || c.Production() {
		t.Errorf("defaults: Embedded() = %v, Production() = %v; want true, false", c.Embedded(), c.Production())
	}
}

// secrets are the distinctive parts of every secret the tests below configure.
var secrets = []string{"pwAPP", "pwOWNER", "pwQUERY", "pwSMTP", "S3cretJWT", "pwLISTEN"}

func TestSecretsNotInErrors(t *testing.T) {
	_, err := config.Load(env(map[string]string{
		"QUIRE_ENV":                 "production",
		"DATABASE_URL":              "mysql://app:pwAPP@db/quire",
		"DATABASE_MIGRATE_URL":      "postgres//owner:pwOWNER@db/quire",
		"QUIRE_LISTEN_DATABASE_URL": "postgres//app:pwLISTEN@db/quire",
		"QUIRE_SMTP_URL":            "smtp://mailer:pwSMTP@smtp.example.com",
		"QUIRE_JWT_SECRET":          "S3cretJWT",
	}))
	if diff := cmp.Diff([]string{"DATABASE_URL", "DATABASE_MIGRATE_URL", "QUIRE_LISTEN_DATABASE_URL", "QUIRE_JWT_SECRET", "QUIRE_SMTP_URL"}, errorVars(err)); diff != "" {
		t.Fatalf("variables named by %q (-want +got):\n%s", err, diff)
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q contains secret %q", err, s)
		}
	}
	_, err = config.Load(env(production(map[string]string{"QUIRE_JWT_SECRET": strings.Repeat("S3cretJWT", 4)})))
	if err == nil || strings.Contains(err.Error(), "S3cretJWT") {
		t.Errorf("weak secret: error %v must exist and not quote the secret", err)
	}
}

func TestLogValueRedactsSecrets(t *testing.T) {
	c, err := config.Load(env(production(map[string]string{
		"DATABASE_URL":              "postgres://app:pwAPP@db/quire?sslmode=require&password=pwQUERY",
		"DATABASE_MIGRATE_URL":      "postgres://owner:pwOWNER@db/quire",
		"QUIRE_LISTEN_DATABASE_URL": "postgres://app:pwLISTEN@db-primary/quire",
		"QUIRE_SMTP_URL":            "smtp://mailer:pwSMTP@smtp.example.com:587",
		"QUIRE_JWT_SECRET":          "S3cretJWT" + strongSecret,
	})))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "config", c)
	out := buf.String() + fmt.Sprint(c) + fmt.Sprintf("%+v", c)
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("output contains secret %q:\n%s", s, out)
		}
	}
	for _, want := range []string{
		`"database_url":"postgres://app:xxxxx@db/quire?password=%5Bredacted%5D&sslmode=require"`,
		`"migrate_url":"postgres://owner:xxxxx@db/quire"`,
		`"listen_url":"postgres://app:xxxxx@db-primary/quire"`,
		`"smtp_url":"smtp://mailer:xxxxx@smtp.example.com:587"`,
		`"jwt_secret":"[redacted]"`,
		`"public_url":"https://notes.example.com"`,
		`"env":"production"`,
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, buf.String())
		}
	}
}
