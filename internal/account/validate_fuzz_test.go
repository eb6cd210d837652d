package account

// An internal test: trimmed and userPrefix are unexported, and exporting
// them would widen the package for a test's sake.

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/quirehq/quire/internal/qerr"
)

// FuzzInput: email addresses (sign-in links, registration, invitations) and
// the optional texts (display name, deactivation reason, user search) come
// from clients. NormalizeEmail refuses with BAD_USER_INPUT only; what it
// accepts is its own canonical form (idempotent, lowercase, trimmed), valid
// UTF-8 with nothing invisible, one @, and within the users table's CHECK
// (3 to 254 characters). trimmed agrees with a plain statement of its rule
// both ways, and a user search's LIKE prefix matches its query literally.
func FuzzInput(f *testing.F) {
	f.Add("Ada@Example.COM", "  Ada Lovelace ")
	f.Fuzz(func(t *testing.T, email, text string) {
		checkEmail(t, email)
		checkTrimmed(t, text)
		checkUserPrefix(t, text)
	})
}

func checkEmail(t *testing.T, in string) {
	t.Helper()
	out, err := NormalizeEmail(in)
	if err != nil {
		if e := qerr.As(err); e == nil || e.Code != qerr.BadUserInput || e.Field != "email" {
			t.Fatalf("NormalizeEmail(%q) = %v, want BAD_USER_INPUT naming email", in, err)
		}
		return
	}
	n := utf8.RuneCountInString(out)
	switch {
	case out != strings.ToLower(strings.TrimSpace(in)):
		t.Fatalf("NormalizeEmail(%q) = %q, want it trimmed and lowercased", in, out)
	case !utf8.ValidString(in) || strings.IndexFunc(out, invisible) >= 0:
		t.Fatalf("NormalizeEmail(%q) accepted invalid UTF-8 or an invisible character", in)
	case strings.Count(out, "@") != 1 || n < 3 || len(out) > 254:
		t.Fatalf("NormalizeEmail(%q) = %q, which the users table refuses", in, out)
	}
	if again, err := NormalizeEmail(out); err != nil || again != out {
		t.Fatalf("NormalizeEmail is not idempotent: %q, then %q, %v", out, again, err)
	}
}

func checkTrimmed(t *testing.T, in string) {
	t.Helper()
	const max = 100
	out, err := trimmed("displayName", &in, max)
	s := strings.TrimSpace(in)
	ok := s == "" || utf8.ValidString(s) && !strings.Contains(s, "\x00") && utf8.RuneCountInString(s) <= max
	if (err == nil) != ok {
		t.Fatalf("trimmed(%q) = %v, want accepted=%v", in, err, ok)
	}
	if err != nil {
		if e := qerr.As(err); e == nil || e.Code != qerr.BadUserInput || e.Field != "displayName" {
			t.Fatalf("trimmed(%q) = %v, want BAD_USER_INPUT naming displayName", in, err)
		}
		return
	}
	if (out == nil) != (s == "") || out != nil && *out != s {
		t.Fatalf("trimmed(%q) = %v, want %q (nil when blank)", in, out, s)
	}
}

func checkUserPrefix(t *testing.T, query string) {
	t.Helper()
	p, err := userPrefix(&query)
	if err != nil || p == nil {
		return // trimmed's refusals and blanks, checked above
	}
	// Unescaping gives back the lowered query, and no wildcard is left bare.
	var plain strings.Builder
	for i := 0; i < len(*p); i++ {
		c := (*p)[i]
		switch {
		case c == '\\' && i+1 < len(*p):
			i++
			plain.WriteByte((*p)[i])
		case c == '\\' || c == '%' || c == '_':
			t.Fatalf("userPrefix(%q) = %q: a bare %q", query, *p, c)
		default:
			plain.WriteByte(c)
		}
	}
	if want := strings.ToLower(strings.TrimSpace(query)); plain.String() != want {
		t.Fatalf("userPrefix(%q) = %q, which matches %q literally, want %q", query, *p, plain.String(), want)
	}
}
