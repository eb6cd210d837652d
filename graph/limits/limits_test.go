package limits_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/quirehq/quire/graph/limits"
)

// testSDL resembles Quire's schema. User.notes is not in the contract: it
// makes the schema recursive, so a query can nest as deep as a client likes.
const testSDL = `
type Query {
  me: User!
  notes(first: Int, after: String): NoteConnection!
  note(id: ID!): Note
  roles: [Role!]!
}
type NoteConnection { edges: [NoteEdge!]!, pageInfo: PageInfo!, totalCount: Int! }
type NoteEdge { cursor: String!, node: Note! }
type Note { id: ID!, title: String!, tags: [String!]!, author: User!, revisions: [NoteRevision!]! }
type NoteRevision { version: Int!, editedBy: User! }
type User { id: ID!, email: String!, notes(first: Int, after: String): NoteConnection! }
type Role { id: ID!, permissions: [String!]! }
type PageInfo { hasNextPage: Boolean!, endCursor: String }
`

func mustSchema(tb testing.TB) *ast.Schema {
	tb.Helper()
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: "test.graphqls", Input: testSDL})
	if err != nil {
		tb.Fatalf("load schema: %v", err)
	}
	return schema
}

// mustQuery parses and validates query as gqlgen does before measuring it.
func mustQuery(
	tb testing.TB, schema *ast.Schema, query string,
) (*ast.QueryDocument, *ast.OperationDefinition) {
	tb.Helper()
	doc, errs := gqlparser.LoadQuery(schema, query)
	if len(errs) > 0 {
		tb.Fatalf("load query: %v", errs)
	}
	return doc, doc.Operations[0]
}

// Deep queries used by several tests.
const (
	// depth14 nests 14 levels through User.notes, without introspection.
	depth14 = `{ me { notes(first: 1) { edges { node { author { notes(first: 1) { edges { node { author {
		notes(first: 1) { edges { node { author { id } } } } } } } } } } } } } }`
	// costly asks for 100 notes × 20 revisions (the page size) × an editor.
	costly = `{ notes(first: 100) { edges { node { revisions { editedBy { id } } } } } }`
)

// aliased returns a query selecting me under n distinct aliases.
func aliased(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		b.WriteString(" a")
		b.WriteString(strings.Repeat("x", i)) // distinct aliases
		b.WriteString(": me { id }")
	}
	b.WriteString(" }")
	return b.String()
}

// tokens returns a valid query of exactly n tokens (n ≥ 6): "{ me { id ... } }".
func tokens(n int) string {
	return "{ me {" + strings.Repeat(" id", n-5) + " } }"
}

func TestMeasure(t *testing.T) {
	schema := mustSchema(t)
	tests := []struct {
		name  string
		query string
		vars  map[string]any
		want  limits.Measures
	}{
		{
			name:  "one field",
			query: `{ me { id } }`,
			want:  limits.Measures{Depth: 2, Tokens: 6, Cost: 2},
		},
		{
			name:  "comments are not tokens",
			query: "# who am I?\n{ me { id } } # that's all",
			want:  limits.Measures{Depth: 2, Tokens: 6, Cost: 2},
		},
		{
			// node: 1 + id + title + author (1 + id + email) = 6; edges 7;
			// notes: 100 × (1 + 7) = 800. edges is the page first paid for.
			name:  "connection of 100 notes",
			query: `{ notes(first: 100) { edges { node { id title author { id email } } } } }`,
			want:  limits.Measures{Depth: 5, Tokens: 23, Cost: 800},
		},
		{
			// revisions: 20 × (1 + editedBy 2) = 60; node 61; edges 62;
			// notes: 100 × 63 = 6300.
			name:  "object list inside a connection multiplies again",
			query: costly,
			want:  limits.Measures{Depth: 6, Tokens: 23, Cost: 6300},
		},
		{
			name:  "no first: the page size",
			query: `{ notes { edges { node { id } } } }`,
			want:  limits.Measures{Depth: 4, Tokens: 12, Cost: 80},
		},
		{
			name:  "first from a variable",
			query: `query ($n: Int) { notes(first: $n) { edges { node { id } } } }`,
			vars:  map[string]any{"n": int64(3)},
			want:  limits.Measures{Depth: 4, Tokens: 25, Cost: 12},
		},
		{
			name:  "first from a null variable: the page size",
			query: `query ($n: Int) { notes(first: $n) { edges { node { id } } } }`,
			vars:  map[string]any{"n": nil},
			want:  limits.Measures{Depth: 4, Tokens: 25, Cost: 80},
		},
		{
			name:  "first from an unset variable: the page size",
			query: `query ($n: Int) { notes(first: $n) { edges { node { id } } } }`,
			want:  limits.Measures{Depth: 4, Tokens: 25, Cost: 80},
		},
		{
			name:  "list of scalars costs 1",
			query: `{ note(id: "n1") { tags } }`,
			want:  limits.Measures{Depth: 2, Tokens: 11, Cost: 2},
		},
		{
			// 20 × (1 + id + permissions) = 60.
			name:  "list of objects without first: the page size",
			query: `{ roles { id permissions } }`,
			want:  limits.Measures{Depth: 2, Tokens: 7, Cost: 60},
		},
		{
			name:  "aliases that rename count, me: me does not",
			query: `{ a: me { id } b: me { mail: email } me: me { id } }`,
			want:  limits.Measures{Depth: 2, Aliases: 3, Tokens: 22, Cost: 6},
		},
		{
			name:  "a fragment's aliases count once per spread",
			query: `{ a: me { ...U } b: me { ...U } } fragment U on User { x: id y: email }`,
			want:  limits.Measures{Depth: 2, Aliases: 6, Tokens: 28, Cost: 6},
		},
		{
			name:  "fragments add no level",
			query: `{ me { ...U ... on User { email } } } fragment U on User { id }`,
			want:  limits.Measures{Depth: 2, Tokens: 20, Cost: 3},
		},
		{
			// Spread directly in the connection, edges is still its page: 10 × 4.
			name:  "a fragment on a connection keeps its page",
			query: `{ notes(first: 10) { ...P } } fragment P on NoteConnection { edges { node { id } } }`,
			want:  limits.Measures{Depth: 4, Tokens: 25, Cost: 40},
		},
		{
			name:  "introspection costs nothing",
			query: `{ __typename me { __typename id } __type(name: "Note") { name fields { name } } }`,
			want:  limits.Measures{Depth: 3, Tokens: 21, Cost: 2},
		},
		{
			name:  "ofType steps along one type reference: no level",
			query: `{ __type(name: "Note") { ofType { ofType { ofType { name } } } } }`,
			want:  limits.Measures{Depth: 2, Tokens: 20},
		},
		{
			// me 1 + notes 1 × (1 + edges (1 + node (1 + author (1 + ...)))).
			name:  "deep query",
			query: depth14,
			want:  limits.Measures{Depth: 14, Tokens: 57, Cost: 14},
		},
		{
			name:  "15 aliases",
			query: aliased(15),
			want:  limits.Measures{Depth: 2, Aliases: 15, Tokens: 92, Cost: 30},
		},
		{
			name:  "1000 tokens",
			query: tokens(1000),
			want:  limits.Measures{Depth: 2, Tokens: 1000, Cost: 996},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, op := mustQuery(t, schema, tt.query)
			got := limits.Measure(schema, doc, op, tt.vars)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Measure(%s) mismatch (-want +got):\n%s", tt.query, diff)
			}
			// The extension measures without the schema, from the definitions
			// validation recorded: it must come to the same.
			if diff := cmp.Diff(got, limits.Measure(nil, doc, op, tt.vars)); diff != "" {
				t.Errorf("Measure without schema differs (-with +without):\n%s", diff)
			}
		})
	}
}

// TestMeasureIntrospection pins what the introspection query GraphiQL sends
// measures: within every limit, so the playground works.
func TestMeasureIntrospection(t *testing.T) {
	schema := mustSchema(t)
	def := limits.Default()
	tests := []struct {
		name  string
		query string
	}{
		{name: "GraphiQL", query: graphiQLIntrospection},
		{name: "GraphiQL with inputValueDeprecation", query: graphiQLIntrospectionInputDeprecation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, op := mustQuery(t, schema, tt.query)
			got := limits.Measure(schema, doc, op, nil)
			t.Logf("measures: %+v", got)
			// __schema, types, fields, args, type and the leaves of TypeRef.
			if diff := cmp.Diff(6, got.Depth); diff != "" {
				t.Errorf("depth (-want +got):\n%s", diff)
			}
			if got.Depth > def.MaxDepth || got.Aliases > def.MaxAliases ||
				got.Tokens > def.MaxTokens || got.Cost > def.MaxCost {
				t.Errorf("measures %+v exceed the default limits %+v", got, def)
			}
		})
	}
}

// TestMeasureDeepIntrospection shows the depth limit holds for introspection.
// gqlgen's validation (MaxIntrospectionDepth) already refuses this document,
// so it is measured unvalidated: the schema resolves the definitions.
func TestMeasureDeepIntrospection(t *testing.T) {
	schema := mustSchema(t)
	query := `{ __type(name: "Note") { fields { type { fields { type { fields { type {
		fields { type { fields { type { fields { type { name } } } } } } } } } } } } } }`
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	got := limits.Measure(schema, doc, doc.Operations[0], nil)
	if diff := cmp.Diff(limits.Measures{Depth: 14, Tokens: 47}, got); diff != "" {
		t.Errorf("Measure mismatch (-want +got):\n%s", diff)
	}
}

// TestMeasureFragmentFanOut spreads each fragment twice in the next: 2^30 paths
// to the last. Walking each fragment once keeps this instant, and the alias
// count saturates instead of overflowing.
func TestMeasureFragmentFanOut(t *testing.T) {
	const levels = 30
	var b strings.Builder
	b.WriteString("{ me { ...F0 } }\n")
	for i := range levels {
		b.WriteString("fragment F" + itoa(i) + " on User { ...F" + itoa(i+1) + " ...F" + itoa(i+1) + " }\n")
	}
	b.WriteString("fragment F" + itoa(levels) + " on User { x: id y: id }\n")
	schema := mustSchema(t)
	doc, op := mustQuery(t, schema, b.String())

	got := limits.Measure(schema, doc, op, nil)
	if got.Depth != 2 || got.Aliases != 1<<31-1 {
		t.Errorf("Measure = %+v, want depth 2 and aliases saturated at %d", got, 1<<31-1)
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + itoa(i%10)
}
