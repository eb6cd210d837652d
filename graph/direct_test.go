package graph

import "testing"

// TestDirectFieldsCarryNoDirectives: direct.go writes its fields without
// running directives, so none of them may carry one; and every field it
// names exists, with the type it expects below it. A directive added to,
// say, User.email in the schema fails here until direct.go applies it.
func TestDirectFieldsCarryNoDirectives(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	for typ, fields := range directFields {
		def := schema.Types[typ]
		if def == nil {
			t.Fatalf("direct.go writes type %s, which the schema lacks", typ)
		}
		for name, child := range fields {
			f := def.Fields.ForName(name)
			if f == nil {
				t.Errorf("direct.go writes %s.%s, which the schema lacks", typ, name)
				continue
			}
			if len(f.Directives) > 0 {
				t.Errorf("%s.%s carries %v: direct.go would not apply it", typ, name, f.Directives[0].Name)
			}
			if child != "" && f.Type.Name() != child {
				t.Errorf("%s.%s is a %s, direct.go writes it as a %s", typ, name, f.Type.Name(), child)
			}
		}
	}
	for _, root := range directRoots {
		f := schema.Query.Fields.ForName(root)
		if f == nil || f.Type.Name() != "NoteConnection" {
			t.Errorf("direct root %s is not a NoteConnection field", root)
		}
	}
	es := NewExecutableSchema(Config{}).(*executableSchema)
	x := newDirectAnswer(es, directives{})
	for _, root := range directRoots {
		if x.roots[root] == "" {
			t.Errorf("%s: its directives are not @orgScoped @hasPermission, so it is never answered directly", root)
		}
	}
}
