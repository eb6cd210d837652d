package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/quirehq/quire/internal/pgtest"
)

// TestCommandLine checks the contract other tools rely on: --help answers,
// a bad flag exits 2 with a usage line, and admin create-user prints a
// working link on stdout.
func TestCommandLine(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	env := map[string]string{"DATABASE_URL": db.AppURL, "DATABASE_MIGRATE_URL": db.OwnerURL, "QUIRE_PUBLIC_URL": "http://quire.test"}
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"no command", nil, 2, "", "usage: quire"},
		{"unknown command", []string{"frobnicate"}, 2, "", "unknown command"},
		{"version", []string{"version"}, 0, "quire ", ""},
		{"serve help", []string{"serve", "--help"}, 0, "", "-no-migrate"},
		{"serve bad flag", []string{"serve", "--bogus"}, 2, "", "usage: quire serve"},
		{"migrate bad action", []string{"migrate", "sideways"}, 2, "", "usage: quire migrate"},
		{"create-user help", []string{"admin", "create-user", "--help"}, 0, "", "-platform-role"},
		{"create-user without email", []string{"admin", "create-user"}, 2, "", "usage: quire admin create-user"},
		{"create-user bad role", []string{"admin", "create-user", "--email", "a@example.com", "--platform-role", "KING"}, 2, "", "usage:"},
		{"create-user", []string{"admin", "create-user", "--email", "First@Example.com", "--platform-role", "SUPERADMIN"}, 0,
			"http://quire.test/login?token=", "first@example.com"},
		{"migrate status", []string{"migrate", "status"}, 0, "00008", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), tc.args, func(k string) string { return env[k] }, &stdout, &stderr)
			if code := exitCode(err, &stderr); code != tc.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tc.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stdout %q, stderr %q: want them to contain %q and %q", stdout.String(), stderr.String(), tc.stdout, tc.stderr)
			}
		})
	}
}
