package limits

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/vektah/gqlparser/v2/ast"
)

// visit returns the measure of the fragment s spreads, walking it only the
// first time key is asked for. A missing fragment and a cycle measure 0.
func visit[K comparable](w *walker, s *ast.FragmentSpread, memo map[K]int, key K,
	walk func(parent *ast.Definition, set ast.SelectionSet) int,
) int {
	if v, ok := memo[key]; ok {
		return v
	}
	def := s.Definition
	if def == nil && w.doc != nil {
		def = w.doc.Fragments.ForName(s.Name)
	}
	if def == nil || w.entered[def.Name] {
		return 0
	}
	w.entered[def.Name] = true
	v := walk(w.typeOr(def.TypeCondition, nil), def.SelectionSet)
	delete(w.entered, def.Name)
	memo[key] = v
	return v
}

// field returns f's definition and the type its selection set selects from.
// A validated document records the definition on the field; otherwise the
// parent type, when known, supplies it.
func (w *walker) field(parent *ast.Definition, f *ast.Field) (*ast.FieldDefinition, *ast.Definition) {
	def := f.Definition
	if def == nil && parent != nil {
		def = parent.Fields.ForName(f.Name)
	}
	if def == nil || w.schema == nil {
		return def, nil
	}
	return def, w.schema.Types[def.Type.Name()]
}

// typeOr returns the schema's type named name, or fallback if name is empty.
func (w *walker) typeOr(name string, fallback *ast.Definition) *ast.Definition {
	if name == "" {
		return fallback
	}
	if w.schema == nil {
		return nil
	}
	return w.schema.Types[name]
}

func (w *walker) rootType(op ast.Operation) *ast.Definition {
	if w.schema == nil {
		return nil
	}
	switch op {
	case ast.Mutation:
		return w.schema.Mutation
	case ast.Subscription:
		return w.schema.Subscription
	}
	return w.schema.Query
}

// unwrapsTypeRef reports an introspection __Type.ofType. It steps along one
// type reference, from a NON_NULL or LIST wrapper to what it wraps: a single
// object each step, null past the named type, never a level of nested data.
// graphql-js's standard introspection query (what GraphiQL sends) spells out
// nine of them in its TypeRef fragment, so counting each as a level would
// measure that query 15 and lock GraphiQL out. Every other introspection field
// counts, including the lists that do nest data (fields, args, ...), whose
// nesting gqlparser's MaxIntrospectionDepth rule bounds as well.
func unwrapsTypeRef(f *ast.Field, def *ast.FieldDefinition) bool {
	return f.Name == "ofType" && def != nil && def.Type.Name() == "__Type"
}

// toInt reads a first argument's value: a literal parses to int64, a variable
// arrives as whatever the transport decoded (json.Number, float64, ...). A
// negative or non-integral value is not a page size.
func toInt(v any) (int, bool) {
	var f float64
	switch v := v.(type) {
	case int:
		f = float64(v)
	case int32:
		f = float64(v)
	case int64:
		f = float64(v)
	case float64:
		f = v
	case json.Number:
		n, err := v.Float64()
		if err != nil {
			return 0, false
		}
		f = n
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, false
		}
		f = float64(n)
	default:
		return 0, false
	}
	if f < 0 || f != math.Trunc(f) {
		return 0, false
	}
	return int(min(f, ceiling)), true
}

// ceiling is where measures saturate: the product of nested page sizes
// grows exponentially and must not wrap around to a small number.
const ceiling = math.MaxInt32

func add(a, b int) int {
	if a > ceiling-b {
		return ceiling
	}
	return a + b
}

func mul(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	if a > ceiling/b {
		return ceiling
	}
	return a * b
}
