package graph

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestEveryRootFieldHasOneAccessDirective walks the served schema: secure by
// default means no root field without exactly one access directive.
func TestEveryRootFieldHasOneAccessDirective(t *testing.T) {
	s := NewExecutableSchema(Config{}).Schema()
	if err := CheckSchema(s); err != nil {
		t.Fatal(err)
	}
	n := len(s.Query.Fields) + len(s.Mutation.Fields)
	if n < 10 {
		t.Fatalf("only %d root fields: is the schema loaded?", n)
	}
}

// TestCheckSchemaRefuses proves the check can fail: each broken schema is
// refused with a message naming the field.
func TestCheckSchemaRefuses(t *testing.T) {
	const dirs = `directive @public on FIELD_DEFINITION
directive @authenticated on FIELD_DEFINITION
directive @orgScoped on FIELD_DEFINITION
directive @hasPermission(permission: String!) on FIELD_DEFINITION
directive @platformRole(role: String!) on FIELD_DEFINITION
`
	cases := []struct{ name, schema, want string }{
		{"no directive", `type Query { open: Int }`, "Query.open carries 0"},
		{"two directives", `type Query { both: Int @public @authenticated }`, "Query.both carries 2"},
		{"unknown permission", `type Query { x: Int @orgScoped @hasPermission(permission: "notes:fly") }`, `unknown permission "notes:fly"`},
		{"permission without org", `type Query { x: Int @authenticated @hasPermission(permission: "notes:read") }`, "needs @orgScoped"},
		{"mutation too", `type Query { ok: Int @public } type Mutation { m: Int }`, "Mutation.m carries 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := gqlparser.LoadSchema(&ast.Source{Input: dirs + tc.schema})
			if err != nil {
				t.Fatal(err)
			}
			err = CheckSchema(s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CheckSchema = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
