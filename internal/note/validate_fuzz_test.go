package note

// An internal test: the validators are unexported, and exporting them would
// widen the package for a test's sake.

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/quirehq/quire/internal/qerr"
)

// FuzzInput: a note's title, body and tags (comma-separated here) and a
// list's search come from clients. Each validator agrees with a plain
// statement of its rule both ways, refuses only with BAD_USER_INPUT naming
// the field, and what it accepts is valid UTF-8 without NUL (PostgreSQL's
// text holds nothing else) within the limits; normalising twice changes
// nothing more than normalising once.
func FuzzInput(f *testing.F) {
	f.Add("Meeting notes", "body", "Go, go ,sql", "notes")
	f.Fuzz(func(t *testing.T, title, body, tagList, search string) {
		checkTitle(t, title)
		checkBody(t, body)
		checkTags(t, strings.Split(tagList, ","))
		checkSearch(t, search)
	})
}

// text reports whether s may be stored: valid UTF-8 without NUL.
func text(s string) bool { return utf8.ValidString(s) && !strings.Contains(s, "\x00") }

func checkTitle(t *testing.T, in string) {
	t.Helper()
	out, err := validTitle(in)
	trimmed := strings.TrimSpace(in)
	n := utf8.RuneCountInString(trimmed)
	if want := text(trimmed) && n >= 1 && n <= MaxTitle; (err == nil) != want {
		t.Fatalf("validTitle(%q) = %v, want accepted=%v", in, err, want)
	}
	if err != nil {
		refusedFor(t, err, "title")
		return
	}
	if out != trimmed {
		t.Fatalf("validTitle(%q) = %q, want it trimmed", in, out)
	}
	if again, err := validTitle(out); err != nil || again != out {
		t.Fatalf("validTitle is not idempotent: %q, then %q, %v", out, again, err)
	}
}

func checkBody(t *testing.T, in string) {
	t.Helper()
	err := validBody(in)
	if want := text(in) && len(in) <= MaxBody; (err == nil) != want {
		t.Fatalf("validBody(%q) = %v, want accepted=%v", in, err, want)
	}
	if err != nil {
		refusedFor(t, err, "body")
	}
}

func checkTags(t *testing.T, in []string) {
	t.Helper()
	out, err := validTags(in)
	var want []string
	ok := true
	for _, tag := range in {
		norm := strings.ToLower(strings.TrimSpace(tag))
		n := utf8.RuneCountInString(norm)
		ok = ok && text(tag) && n >= 1 && n <= MaxTagSize
		if !slices.Contains(want, norm) {
			want = append(want, norm)
		}
	}
	ok = ok && len(want) <= MaxTags // counted once duplicates collapse
	if (err == nil) != ok {
		t.Fatalf("validTags(%q) = %v, want accepted=%v", in, err, ok)
	}
	if err != nil {
		refusedFor(t, err, "tags")
		return
	}
	if !slices.Equal(out, want) {
		t.Fatalf("validTags(%q) = %q, want %q (normalised, first occurrences in order)", in, out, want)
	}
	for _, tag := range out {
		if !text(tag) || tag != strings.TrimSpace(tag) || tag != strings.ToLower(tag) {
			t.Fatalf("validTags(%q) accepted tag %q", in, tag)
		}
	}
	if again, err := validTags(out); err != nil || !slices.Equal(again, out) {
		t.Fatalf("validTags is not idempotent: %q, then %q, %v", out, again, err)
	}
}

func checkSearch(t *testing.T, in string) {
	t.Helper()
	f, err := Filter{Search: &in}.normalise()
	if want := strings.TrimSpace(in) != "" && len(in) <= 200 && text(in); (err == nil) != want {
		t.Fatalf("search %q: %v, want accepted=%v", in, err, want)
	}
	if err != nil {
		refusedFor(t, err, "filter.search")
		return
	}
	if *f.Search != in {
		t.Fatalf("search %q became %q", in, *f.Search)
	}
}

func refusedFor(t *testing.T, err error, field string) {
	t.Helper()
	if e := qerr.As(err); e == nil || e.Code != qerr.BadUserInput || e.Field != field {
		t.Fatalf("refusal %v, want BAD_USER_INPUT naming %s", err, field)
	}
}
