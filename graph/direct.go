package graph

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/quirehq/quire/graph/model"
	"github.com/quirehq/quire/internal/account"
	"github.com/quirehq/quire/internal/note"
)

// A page of notes is the API's hottest answer, and gqlgen's general executor
// spends most of its time on it: every field of every note gets a field
// context, a closure and a marshaler, and every element of a list its own
// goroutine. Under load that was about half of the server's CPU per request
// and most of its garbage.
//
// directAnswer answers the queries that ask only for a list of notes (notes
// or trash) and fields it knows, writing the JSON as it walks the selection.
// Everything that decides the answer is gqlgen's or the API's own: the
// document is parsed, validated and limited as always; fields are collected
// by graphql.CollectFields (fragments, aliases, @skip, @include);
// arguments are coerced by the generated functions; the root field runs
// through the same directives, in the schema's order, and the same
// resolver, and totalCount through its resolver. The edges, page info and
// authors are what their resolvers would return, taken from the same page
// (note.Page: the notes, their cursors and the authors the list read). What
// it leaves out is the executor's machinery.
//
// Anything else goes to gqlgen untouched: another root field or a second
// one, a field it does not know (revisions, say), @defer, a field carrying
// any other directive. So does any error, from a directive, a resolver or a
// value it cannot write: the operation then runs again through gqlgen,
// which answers with the error exactly as it always has. Only queries are
// answered here, and a query changes nothing, so running one again is safe.
//
// TestDirectAnswersMatchGqlgen holds the two paths byte for byte on a corpus
// of operations, and TestDirectFieldsCarryNoDirectives fails if a field
// this file writes gains a directive in the schema.
type directAnswer struct {
	es    *executableSchema
	dirs  directives
	roots map[string]string // root field -> the permission of its @hasPermission
}

// directRoots are the root fields directAnswer may answer.
var directRoots = []string{"notes", "trash"}

// newDirectAnswer reads each direct root's directives from the schema. A
// root answers directly only while they are exactly @orgScoped
// @hasPermission(permission: "…"), the chain direct applies.
func newDirectAnswer(es *executableSchema, dirs directives) *directAnswer {
	x := &directAnswer{es: es, dirs: dirs, roots: map[string]string{}}
	query := es.Schema().Query
	for _, name := range directRoots {
		f := query.Fields.ForName(name)
		if f == nil || len(f.Directives) != 2 ||
			f.Directives[0].Name != "orgScoped" || len(f.Directives[0].Arguments) != 0 ||
			f.Directives[1].Name != "hasPermission" || len(f.Directives[1].Arguments) != 1 {
			continue
		}
		perm := f.Directives[1].Arguments.ForName("permission")
		if perm == nil || perm.Value.Kind != ast.StringValue {
			continue
		}
		x.roots[name] = perm.Value.Raw
	}
	return x
}

// errNotDirect is any reason to let gqlgen answer instead.
var errNotDirect = errors.New("not answered directly")

// answer returns the operation's response, or false to let gqlgen run it.
func (x *directAnswer) answer(ctx context.Context) (*graphql.Response, bool) {
	opCtx := graphql.GetOperationContext(ctx)
	if opCtx == nil || opCtx.Operation == nil || opCtx.Operation.Operation != ast.Query {
		return nil, false
	}
	fields := graphql.CollectFields(opCtx, opCtx.Operation.SelectionSet, []string{"Query"})
	if len(fields) != 1 {
		return nil, false
	}
	field := fields[0]
	perm, ok := x.roots[field.Name]
	if !ok || !plain(field) {
		return nil, false
	}
	shapes, ok := shapeOf(opCtx, field.Selections, "NoteConnection")
	if !ok {
		return nil, false
	}
	ec := newExecutionContext(opCtx, x.es, nil)
	var args map[string]any
	var err error
	rawArgs := field.ArgumentMap(opCtx.Variables)
	if field.Name == "notes" {
		args, err = ec.field_Query_notes_args(ctx, rawArgs)
	} else {
		args, err = ec.field_Query_trash_args(ctx, rawArgs)
	}
	if err != nil {
		return nil, false
	}
	ctx = graphql.WithRootFieldContext(ctx, &graphql.RootFieldContext{Object: "Query", Field: field})
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{
		Object: "Query", Field: field, Args: args, IsMethod: true, IsResolver: true,
	})
	res := x.es.Resolvers.Query()
	resolve := func(ctx context.Context) (any, error) {
		first, _ := args["first"].(*int)
		after, _ := args["after"].(*string)
		if field.Name == "notes" {
			filter, _ := args["filter"].(*note.Filter)
			return res.Notes(ctx, first, after, filter)
		}
		return res.Trash(ctx, first, after)
	}
	v, err := x.dirs.hasPermission(ctx, nil, func(ctx context.Context) (any, error) {
		return x.dirs.orgScoped(ctx, nil, resolve)
	}, perm)
	if err != nil {
		return nil, false
	}
	conn, _ := v.(*model.NoteConnection)
	if conn == nil || conn.Page == nil {
		return nil, false
	}
	w := writers.Get().(*jsonWriter)
	w.raw(`{`)
	w.key(field.Alias)
	if err := x.connection(ctx, w, shapes, conn); err != nil {
		w.release()
		return nil, false
	}
	w.raw(`}`)
	// postTransport takes the buffer back once the answer is written;
	// without it (GET), the answer is a copy.
	if aw, ok := ctx.Value(afterWriteKey{}).(*afterWrite); ok && aw.fn == nil {
		aw.fn = w.release
		return &graphql.Response{Data: w.buf}, true
	}
	defer w.release()
	return &graphql.Response{Data: append([]byte(nil), w.buf...)}, true
}

// plain reports whether f carries no directive and no @defer: @skip and
// @include are already applied by CollectFields, and no other directive
// is served here.
func plain(f graphql.CollectedField) bool {
	if len(f.Deferrables) > 0 {
		return false
	}
	for _, d := range f.Directives {
		if d.Name != "skip" && d.Name != "include" {
			return false
		}
	}
	return true
}

// directFields are the fields directAnswer writes, by type; a nested object
// names its type.
var directFields = map[string]map[string]string{
	"NoteConnection": {"edges": "NoteEdge", "pageInfo": "PageInfo", "totalCount": ""},
	"NoteEdge":       {"cursor": "", "node": "Note"},
	"PageInfo":       {"hasNextPage": "", "endCursor": ""},
	"Note": {
		"id": "", "title": "", "body": "", "tags": "", "visibility": "", "version": "",
		"author": "User", "createdAt": "", "updatedAt": "", "deletedAt": "",
	},
	"User": {"id": "", "email": "", "displayName": "", "platformRole": "", "status": "", "createdAt": ""},
}

// shape is a collected field and, for an object, its own collected fields:
// the selection resolved once per request rather than once per note.
type shape struct {
	graphql.CollectedField
	sub []shape
}

// shapeOf collects the fields selected on typ, and below them, or reports
// false if any is one directAnswer does not write.
func shapeOf(opCtx *graphql.OperationContext, sel ast.SelectionSet, typ string) ([]shape, bool) {
	fields := graphql.CollectFields(opCtx, sel, []string{typ})
	shapes := make([]shape, len(fields))
	for i, f := range fields {
		if !plain(f) {
			return nil, false
		}
		shapes[i].CollectedField = f
		if f.Name == "__typename" {
			continue
		}
		child, ok := directFields[typ][f.Name]
		if !ok {
			return nil, false
		}
		if child != "" {
			if shapes[i].sub, ok = shapeOf(opCtx, f.Selections, child); !ok {
				return nil, false
			}
		}
	}
	return shapes, true
}

func (x *directAnswer) connection(ctx context.Context, w *jsonWriter, shapes []shape, conn *model.NoteConnection) error {
	pg := conn.Page
	return w.object(shapes, func(f shape) error {
		switch f.Name {
		case "__typename":
			w.str("NoteConnection")
		case "edges":
			// The edges resolver's work, written as it goes: an edge per
			// note, its cursor from the page, its author as the list read
			// it (the loader's primed value, read without the loader).
			w.raw(`[`)
			for i, n := range pg.Notes {
				if i > 0 {
					w.raw(`,`)
				}
				if err := x.edge(ctx, w, f.sub, pg, i, n); err != nil {
					return err
				}
			}
			w.raw(`]`)
		case "pageInfo":
			info := pageInfo(len(pg.Notes), pg.HasNext, pg.Cursor)
			return w.object(f.sub, func(g shape) error {
				switch g.Name {
				case "__typename":
					w.str("PageInfo")
				case "hasNextPage":
					w.bool(info.HasNextPage)
				case "endCursor":
					w.optStr(info.EndCursor)
				default:
					return errNotDirect
				}
				return nil
			})
		case "totalCount":
			n, err := x.es.Resolvers.NoteConnection().TotalCount(ctx, conn)
			if err != nil {
				return err
			}
			w.int(n)
		default:
			return errNotDirect
		}
		return nil
	})
}

func (x *directAnswer) edge(ctx context.Context, w *jsonWriter, shapes []shape, pg *note.Page, i int, n *note.Note) error {
	return w.object(shapes, func(f shape) error {
		switch f.Name {
		case "__typename":
			w.str("NoteEdge")
		case "cursor":
			w.str(pg.Cursor(i))
		case "node":
			if n == nil {
				return errNotDirect
			}
			return x.note(ctx, w, f.sub, pg, i, n)
		default:
			return errNotDirect
		}
		return nil
	})
}

func (x *directAnswer) note(ctx context.Context, w *jsonWriter, shapes []shape, pg *note.Page, i int, n *note.Note) error {
	return w.object(shapes, func(f shape) error {
		switch f.Name {
		case "__typename":
			w.str("Note")
		case "id":
			w.id(n.ID)
		case "title":
			w.str(n.Title)
		case "body":
			w.str(n.Body)
		case "tags":
			if n.Tags == nil {
				return errNotDirect
			}
			w.raw(`[`)
			for j, t := range n.Tags {
				if j > 0 {
					w.raw(`,`)
				}
				w.str(t)
			}
			w.raw(`]`)
		case "visibility":
			w.str(string(n.Visibility))
		case "version":
			w.int(n.Version)
		case "createdAt":
			return w.time(n.CreatedAt)
		case "updatedAt":
			return w.time(n.UpdatedAt)
		case "deletedAt":
			if n.DeletedAt == nil {
				w.raw(`null`)
				return nil
			}
			return w.time(*n.DeletedAt)
		case "author":
			// The author resolver loads through the user loader, which the
			// page primes with these same rows; a page without them (the
			// trash) asks the resolver.
			if i < len(pg.Authors) && pg.Authors[i].ID == n.AuthorID {
				return x.user(w, f.sub, account.FromStore(pg.Authors[i]))
			}
			u, err := x.es.Resolvers.Note().Author(ctx, n)
			if err != nil {
				return err
			}
			if u == nil {
				return errNotDirect
			}
			return x.user(w, f.sub, u)
		default:
			return errNotDirect
		}
		return nil
	})
}

func (x *directAnswer) user(w *jsonWriter, shapes []shape, u *account.User) error {
	return w.object(shapes, func(f shape) error {
		switch f.Name {
		case "__typename":
			w.str("User")
		case "id":
			w.id(u.ID)
		case "email":
			w.str(u.Email)
		case "displayName":
			w.optStr(u.DisplayName)
		case "platformRole":
			w.str(u.PlatformRole.String())
		case "status":
			w.str(string(u.Status))
		case "createdAt":
			return w.time(u.CreatedAt)
		default:
			return errNotDirect
		}
		return nil
	})
}

// jsonWriter writes JSON the way gqlgen's marshalers do.
type jsonWriter struct{ buf []byte }

var writers = sync.Pool{New: func() any { return &jsonWriter{buf: make([]byte, 0, 32<<10)} }}

func (w *jsonWriter) release() {
	if cap(w.buf) > 1<<20 {
		return
	}
	w.buf = w.buf[:0]
	writers.Put(w)
}

func (w *jsonWriter) raw(s string) { w.buf = append(w.buf, s...) }

// object writes an object of the shapes' fields: each key, then what field
// writes for it.
func (w *jsonWriter) object(shapes []shape, field func(f shape) error) error {
	w.raw(`{`)
	for i, f := range shapes {
		if i > 0 {
			w.raw(`,`)
		}
		w.key(f.Alias)
		if err := field(f); err != nil {
			return err
		}
	}
	w.raw(`}`)
	return nil
}

func (w *jsonWriter) key(name string) {
	w.str(name)
	w.buf = append(w.buf, ':')
}

func (w *jsonWriter) bool(b bool) { w.buf = strconv.AppendBool(w.buf, b) }

func (w *jsonWriter) int(n int) { w.buf = strconv.AppendInt(w.buf, int64(n), 10) }

// id writes a uuid as scalar.MarshalID does: its canonical text, quoted.
func (w *jsonWriter) id(id uuid.UUID) {
	w.buf = append(w.buf, '"')
	for i, b := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			w.buf = append(w.buf, '-')
		}
		w.buf = append(w.buf, hexDigits[b>>4], hexDigits[b&0xf])
	}
	w.buf = append(w.buf, '"')
}

// time writes t as graphql.MarshalTime does; the zero time, which gqlgen
// writes as null and then refuses for a non-null field, is left to gqlgen.
func (w *jsonWriter) time(t time.Time) error {
	if t.IsZero() {
		return errNotDirect
	}
	w.buf = append(w.buf, '"')
	w.buf = t.AppendFormat(w.buf, time.RFC3339Nano)
	w.buf = append(w.buf, '"')
	return nil
}

func (w *jsonWriter) optStr(s *string) {
	if s == nil {
		w.raw(`null`)
		return
	}
	w.str(*s)
}

const hexDigits = "0123456789abcdef"

// upperHex spells a control character's \u00XX escape, as gqlgen does.
const upperHex = "0123456789ABCDEF"

// unescaped returns how many of s's bytes from i on, in whole words of 8,
// need no escaping in a JSON string: none is below 0x20, a quote or a
// backslash. Each test is the exact "has a byte less than n" of a word,
// (x - n·0x01…) & ^x & 0x80…, with a zero byte found as one less than 1.
func unescaped(s string, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	j := i
	for ; j+8 <= len(s); j += 8 {
		b := s[j : j+8]
		x := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		q := x ^ ones*'"'
		bs := x ^ ones*'\\'
		if ((x-ones*0x20)&^x|(q-ones)&^q|(bs-ones)&^bs)&highs != 0 {
			break
		}
	}
	return j - i
}

// str writes s as gqlgen's writeQuotedString does: control characters,
// backslash and quote escaped, every other byte (HTML characters and
// multi-byte UTF-8 included) as it is. Eight bytes at a time are passed
// over when none of them needs escaping (unescaped), as in a note's body.
// FuzzJSONString holds it to gqlgen's MarshalString.
func (w *jsonWriter) str(s string) {
	w.buf = append(w.buf, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		if i += unescaped(s, i); i == len(s) {
			break
		}
		c := s[i]
		if c >= 0x20 && c != '\\' && c != '"' {
			continue
		}
		w.buf = append(w.buf, s[start:i]...)
		switch c {
		case '\t':
			w.buf = append(w.buf, `\t`...)
		case '\r':
			w.buf = append(w.buf, `\r`...)
		case '\n':
			w.buf = append(w.buf, `\n`...)
		case '\\':
			w.buf = append(w.buf, `\\`...)
		case '"':
			w.buf = append(w.buf, `\"`...)
		default:
			w.buf = append(w.buf, '\\', 'u', '0', '0', upperHex[c>>4], upperHex[c&0xf])
		}
		start = i + 1
	}
	w.buf = append(w.buf, s[start:]...)
	w.buf = append(w.buf, '"')
}
