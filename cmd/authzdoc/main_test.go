package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/quirehq/quire/graph"
	"github.com/quirehq/quire/internal/policy"
)

func render(t *testing.T, s *ast.Schema) string {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b, s); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestReferenceIsComplete: the reference names every root field of the
// served schema with its access directive and permission, every permission
// with its module, and every built-in role.
func TestReferenceIsComplete(t *testing.T) {
	t.Parallel()
	s := graph.NewExecutableSchema(graph.Config{}).Schema()
	doc := render(t, s)
	n := 0
	for _, root := range []*ast.Definition{s.Query, s.Mutation, s.Subscription} {
		if root == nil {
			continue
		}
		for _, f := range root.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			n++
			row := "| `" + f.Name + "` | "
			if !strings.Contains(doc, row) {
				t.Errorf("%s.%s is missing", root.Name, f.Name)
				continue
			}
			line := doc[strings.Index(doc, row):]
			line = line[:strings.IndexByte(line, '\n')]
			if d := f.Directives.ForName("hasPermission"); d != nil {
				if want := "`" + d.Arguments.ForName("permission").Value.Raw + "`"; !strings.Contains(line, want) {
					t.Errorf("%s.%s: row %q lacks %s", root.Name, f.Name, line, want)
				}
			}
		}
	}
	if n < 30 {
		t.Errorf("only %d root fields: is the schema loaded?", n)
	}
	for _, p := range policy.Catalog() {
		if row := "| `" + p.Code + "` | " + p.Module + " |"; !strings.Contains(doc, row) {
			t.Errorf("catalog row %q is missing", row)
		}
	}
	for _, r := range policy.BuiltInRoles() {
		if !strings.Contains(doc, "(`"+r.Key+"`)") {
			t.Errorf("role %s is missing", r.Key)
		}
	}
}

// TestRoleMatrix: each permission's row marks exactly the built-in roles
// that grant it.
func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	doc := render(t, graph.NewExecutableSchema(graph.Config{}).Schema())
	roles := policy.BuiltInRoles()
	for _, info := range policy.Catalog() {
		perm, _ := policy.ParsePermission(info.Code)
		want := "| `" + info.Code + "` |"
		for _, r := range roles {
			if r.Permissions.Has(perm) {
				want += " ✓ |"
			} else {
				want += "   |"
			}
		}
		if !strings.Contains(doc, want+"\n") {
			t.Errorf("matrix row for %s: want %q", info.Code, want)
		}
	}
}

// TestAccessOf reads each access directive as the table shows it, and
// refuses a field with none (the schema check's rule, kept here so the
// reference never shows a field as open by mistake).
func TestAccessOf(t *testing.T) {
	t.Parallel()
	s, err := gqlparser.LoadSchema(&ast.Source{Input: `
directive @public on FIELD_DEFINITION
directive @authenticated on FIELD_DEFINITION
directive @orgScoped on FIELD_DEFINITION
directive @hasPermission(permission: String!) on FIELD_DEFINITION
directive @platformRole(role: String!) on FIELD_DEFINITION
type Query {
  open: Int @public
  admin: Int @platformRole(role: ADMIN)
  scoped: Int @orgScoped @hasPermission(permission: "notes:read")
  bare: Int
}`})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"open": "`@public`", "admin": "`@platformRole(ADMIN)`", "scoped": "`@orgScoped`"} {
		if got, err := accessOf("Query", s.Query.Fields.ForName(name)); err != nil || got != want {
			t.Errorf("accessOf(%s) = %q, %v; want %q", name, got, err, want)
		}
	}
	if _, err := accessOf("Query", s.Query.Fields.ForName("bare")); err == nil {
		t.Error("accessOf(bare) succeeded; want an error")
	}
	if err := write(&bytes.Buffer{}, s); err == nil {
		t.Error("write succeeded on a schema with an unguarded field")
	}
}

// TestDeterministic: two runs write the same bytes.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	s := graph.NewExecutableSchema(graph.Config{}).Schema()
	if a, b := render(t, s), render(t, s); a != b {
		t.Error("two renderings differ")
	}
}
