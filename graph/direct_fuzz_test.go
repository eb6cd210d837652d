package graph

import (
	"bytes"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// FuzzJSONString holds the direct writer's strings to gqlgen's: for any
// bytes, valid UTF-8 or not, str writes what graphql.MarshalString does.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{
		"",
		"plain text, longer than a word",
		"a\"b\\c\nd\te\rf\x00g\x1f",
		strings.Repeat("x", 15) + "\"" + strings.Repeat("y", 9) + "\\",
		"ü€😀 <b>&amp;</b> \u2028\u2029",
		"\x7f\x80\xfe\xff \x20\x21\x5b\x5d\x5c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var w jsonWriter
		w.str(s)
		var want bytes.Buffer
		graphql.MarshalString(s).MarshalGQL(&want)
		if !bytes.Equal(w.buf, want.Bytes()) {
			t.Fatalf("str(%q) = %s, gqlgen writes %s", s, w.buf, want.Bytes())
		}
	})
}
