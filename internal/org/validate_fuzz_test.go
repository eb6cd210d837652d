package org

// An internal test: the validators are unexported, and exporting them would
// widen the package for a test's sake.

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
)

// FuzzInput: an organization's name and slug and a custom role's key come
// from clients. Each check agrees with a plain statement of its rule both
// ways and refuses with BAD_USER_INPUT (CONFLICT for a built-in role's key);
// an accepted name is valid UTF-8 without NUL within the limit and
// normalises idempotently; a slug derived from any name, with or without
// the suffix a taken slug gets, passes the slug rule the table's CHECK
// repeats.
func FuzzInput(f *testing.F) {
	f.Add("Acme Corp", "acme", "reviewer")
	f.Fuzz(func(t *testing.T, name, slug, key string) {
		checkName(t, name)
		checkSlug(t, slug)
		checkDerivedSlug(t, name)
		checkRoleKey(t, key)
	})
}

func checkName(t *testing.T, in string) {
	t.Helper()
	out, err := validName(in)
	trimmed := strings.TrimSpace(in)
	n := utf8.RuneCountInString(trimmed)
	want := utf8.ValidString(trimmed) && !strings.Contains(trimmed, "\x00") && n >= 1 && n <= 100
	if (err == nil) != want {
		t.Fatalf("validName(%q) = %v, want accepted=%v", in, err, want)
	}
	if err != nil {
		if e := qerr.As(err); e == nil || e.Code != qerr.BadUserInput || e.Field != "name" {
			t.Fatalf("validName(%q) = %v, want BAD_USER_INPUT naming name", in, err)
		}
		return
	}
	if out != trimmed {
		t.Fatalf("validName(%q) = %q, want it trimmed", in, out)
	}
	if again, err := validName(out); err != nil || again != out {
		t.Fatalf("validName is not idempotent: %q, then %q, %v", out, again, err)
	}
}

// slugRule is the slug rule stated plainly: 1 to 50 lowercase ASCII letters,
// digits and hyphens, starting and ending with a letter or digit.
func slugRule(s string) bool {
	if len(s) < 1 || len(s) > 50 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func checkSlug(t *testing.T, in string) {
	t.Helper()
	s := strings.TrimSpace(in) // as Create and Update read a chosen slug
	if got, want := slugPattern.MatchString(s), slugRule(s); got != want {
		t.Fatalf("slug %q: pattern says %v, the rule says %v", s, got, want)
	}
}

func checkDerivedSlug(t *testing.T, name string) {
	t.Helper()
	s := slugFrom(name)
	for _, candidate := range []string{s, s + "-0a1b2c"} {
		if !slugPattern.MatchString(candidate) || !slugRule(candidate) {
			t.Fatalf("name %q derives slug %q, which the slug rule refuses", name, candidate)
		}
	}
	if again := slugFrom(s); again != s {
		t.Fatalf("slugFrom is not idempotent: %q, then %q", s, again)
	}
}

func checkRoleKey(t *testing.T, key string) {
	t.Helper()
	err := validRoleKey(key)
	shape := len(key) >= 1 && len(key) <= 40 && key[0] >= 'a' && key[0] <= 'z'
	for i := 1; shape && i < len(key); i++ {
		c := key[i]
		shape = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-'
	}
	builtIn := false
	for _, r := range policy.BuiltInRoles() {
		builtIn = builtIn || r.Key == key
	}
	switch code := qerr.CodeOf(err); {
	case !shape && code != qerr.BadUserInput:
		t.Fatalf("validRoleKey(%q) = %v, want BAD_USER_INPUT", key, err)
	case shape && builtIn && code != qerr.Conflict:
		t.Fatalf("validRoleKey(%q) = %v, want CONFLICT for a built-in key", key, err)
	case shape && !builtIn && err != nil:
		t.Fatalf("validRoleKey(%q) = %v, want it accepted", key, err)
	}
}
