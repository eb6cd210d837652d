package limits

import (
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// Measure computes the measures of one operation of a parsed, validated
// document, assuming Default's page size; Limits.Measure uses another.
//
//   - Depth is the number of nested field selections: { me { id } } is 2.
//     Fragments, named or inline, are expanded in place and add no level.
//     Introspection counts like any query, except __Type.ofType, which
//     unwraps one type reference (NON_NULL, LIST) rather than nesting data:
//     see unwrapsTypeRef.
//   - Aliases is the number of fields whose alias differs from their name,
//     a fragment's counted once per spread of it. "me: me" is not counted: it
//     asks for nothing more than "me".
//   - Tokens is the number of lexical tokens of the whole document op came in
//     (punctuators, names, values; not comments, not the end of input).
//   - Cost: a field costs 1 plus its children. A field taking a first argument
//     costs first × (1 + children), first read from the literal or vars (null
//     or unset: the argument's default, else the page size). A connection's
//     list fields (edges, nodes) are that page and do not multiply again; any
//     other list of objects without first costs page size × (1 + children).
//     Introspection (every field named __*, and all under it) costs nothing.
//
// The schema resolves field definitions the validator did not record; nil is
// fine for a document gqlgen has validated. Fragment cycles and unknown
// fragments, which validation rejects, count as empty; each fragment is walked
// once per measure, and the measures saturate at math.MaxInt32.
func Measure(
	schema *ast.Schema, doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any,
) Measures {
	return Default().Measure(schema, doc, op, vars)
}

// Measure computes the measures of op as the package's Measure does, with
// l.DefaultPageSize as the page size.
func (l Limits) Measure(
	schema *ast.Schema, doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any,
) Measures {
	if op == nil {
		return Measures{}
	}
	w := &walker{
		schema:      schema,
		doc:         doc,
		vars:        vars,
		pageSize:    l.DefaultPageSize,
		depths:      map[string]int{},
		aliasCounts: map[string]int{},
		costs:       map[costKey]int{},
		entered:     map[string]bool{},
	}
	root := w.rootType(op.Operation)
	m := Measures{
		Depth:   w.depth(root, op.SelectionSet),
		Aliases: w.aliases(root, op.SelectionSet),
		Cost:    w.cost(root, op.SelectionSet, false),
	}
	if op.Position != nil && op.Position.Src != nil {
		m.Tokens = countTokens(op.Position.Src.Input, 0)
	}
	return m
}

// walker measures one operation. Its memos hold each fragment's result, so a
// fragment spread many times (or spread twice in each of n nested fragments)
// is walked once, not once per path to it.
type walker struct {
	schema   *ast.Schema
	doc      *ast.QueryDocument
	vars     map[string]any
	pageSize int

	depths      map[string]int
	aliasCounts map[string]int
	costs       map[costKey]int
	// entered holds the fragments being walked: meeting one again is a cycle.
	entered map[string]bool
}

// costKey memoizes a fragment's cost: it differs when the fragment is spread
// directly in a connection, whose list fields are then the page.
type costKey struct {
	fragment string
	page     bool
}

func (w *walker) depth(parent *ast.Definition, set ast.SelectionSet) int {
	deepest := 0
	for _, sel := range set {
		d := 0
		switch s := sel.(type) {
		case *ast.Field:
			def, child := w.field(parent, s)
			d = w.depth(child, s.SelectionSet)
			if !unwrapsTypeRef(s, def) {
				d++
			}
		case *ast.InlineFragment:
			d = w.depth(w.typeOr(s.TypeCondition, parent), s.SelectionSet)
		case *ast.FragmentSpread:
			d = visit(w, s, w.depths, s.Name, w.depth)
		}
		deepest = max(deepest, d)
	}
	return deepest
}

func (w *walker) aliases(_ *ast.Definition, set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Alias != "" && s.Alias != s.Name {
				n = add(n, 1)
			}
			n = add(n, w.aliases(nil, s.SelectionSet))
		case *ast.InlineFragment:
			n = add(n, w.aliases(nil, s.SelectionSet))
		case *ast.FragmentSpread:
			n = add(n, visit(w, s, w.aliasCounts, s.Name, w.aliases))
		}
	}
	return n
}

// cost sums the costs of a selection set. page reports that the set is the
// selection of a connection field whose first argument already paid for the
// list fields in it (edges, nodes).
func (w *walker) cost(parent *ast.Definition, set ast.SelectionSet, page bool) int {
	total := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			total = add(total, w.fieldCost(parent, s, page))
		case *ast.InlineFragment:
			total = add(total, w.cost(w.typeOr(s.TypeCondition, parent), s.SelectionSet, page))
		case *ast.FragmentSpread:
			walk := func(p *ast.Definition, set ast.SelectionSet) int { return w.cost(p, set, page) }
			total = add(total, visit(w, s, w.costs, costKey{s.Name, page}, walk))
		}
	}
	return total
}

func (w *walker) fieldCost(parent *ast.Definition, f *ast.Field, page bool) int {
	if strings.HasPrefix(f.Name, "__") {
		return 0 // __schema, __type, __typename: introspection is free
	}
	def, child := w.field(parent, f)
	first, paged := w.first(f, def)
	list := def != nil && def.Type.Elem != nil
	each := add(1, w.cost(child, f.SelectionSet, paged && !list))
	switch {
	case paged:
		return mul(first, each)
	case list && len(f.SelectionSet) > 0 && !page:
		return mul(w.pageSize, each)
	}
	return each
}

// first returns the number of items a field asks for and whether it takes a
// first argument at all (declared, or given when the definition is unknown).
func (w *walker) first(f *ast.Field, def *ast.FieldDefinition) (int, bool) {
	var argDef *ast.ArgumentDefinition
	if def != nil {
		argDef = def.Arguments.ForName("first")
	}
	arg := f.Arguments.ForName("first")
	if argDef == nil && arg == nil {
		return 0, false
	}
	var v any
	if arg != nil {
		v, _ = arg.Value.Value(w.vars)
	}
	if v == nil && argDef != nil && argDef.DefaultValue != nil {
		v, _ = argDef.DefaultValue.Value(nil)
	}
	if n, ok := toInt(v); ok {
		return n, true
	}
	return w.pageSize, true
}
