package note_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/note"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
)

// team is one organization with a member of each kind, and the owner of
// another organization.
type team struct {
	*env
	owner, admin, author, editor, viewer policy.Principal
	outsider                             policy.Principal
}

func newTeam(t *testing.T) *team {
	t.Helper()
	e := newEnv(t)
	tm := &team{env: e, owner: e.org(t, e.user(t, "owner"), "Acme")}
	tm.admin = e.member(t, tm.owner.OrgID, e.user(t, "admin"), "admin")
	tm.author = e.member(t, tm.owner.OrgID, e.user(t, "author"), "editor")
	tm.editor = e.member(t, tm.owner.OrgID, e.user(t, "editor"), "editor")
	tm.viewer = e.member(t, tm.owner.OrgID, e.user(t, "viewer"), "viewer")
	tm.outsider = e.org(t, e.user(t, "outsider"), "Other")
	return tm
}

// get reads a note as p, failing the test on error.
func (tm *team) get(t *testing.T, p policy.Principal, id uuid.UUID) *note.Note {
	t.Helper()
	n, err := tm.svc.Get(t.Context(), p, id)
	if err != nil {
		t.Fatalf("get note: %v", err)
	}
	return n
}

func (tm *team) revisions(t *testing.T, p policy.Principal, id uuid.UUID) []*note.Revision {
	t.Helper()
	rs, err := tm.svc.Revisions(t.Context(), p, id)
	if err != nil {
		t.Fatalf("revisions: %v", err)
	}
	return rs
}

// wantErr requires err to carry code (and, if not empty, permission); code
// "" requires no error.
func wantErr(t *testing.T, err error, code qerr.Code, permission string) {
	t.Helper()
	if got := qerr.CodeOf(err); got != code {
		t.Fatalf("error %v (code %q), want code %q", err, got, code)
	}
	if permission != "" && qerr.As(err).Permission != permission {
		t.Errorf("FORBIDDEN names permission %q, want %q", qerr.As(err).Permission, permission)
	}
}

func ptr[T any](v T) *T { return &v }

// TestUpdateStaleVersion: an update at any version but the current one is a
// CONFLICT that changes neither the note, nor its revisions, nor the log.
func TestUpdateStaleVersion(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	n := tm.create(t, tm.author, "first", note.VisibilityOrg)
	if _, err := tm.svc.Update(t.Context(), tm.author, n.ID, 1, note.UpdateInput{Title: ptr("second")}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		expected int
	}{
		{"stale", 1},
		{"ahead", 3},
		{"zero", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, revs, events := tm.get(t, tm.author, n.ID), tm.revisions(t, tm.author, n.ID), tm.auditEvents(t, tm.author)
			_, err := tm.svc.Update(t.Context(), tm.author, n.ID, tc.expected, note.UpdateInput{Title: ptr("lost"), Body: ptr("lost")})
			wantErr(t, err, qerr.Conflict, "")
			if diff := cmp.Diff(before, tm.get(t, tm.author, n.ID)); diff != "" {
				t.Errorf("note after a refused update (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(revs, tm.revisions(t, tm.author, n.ID)); diff != "" {
				t.Errorf("revisions after a refused update (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(events, tm.auditEvents(t, tm.author)); diff != "" {
				t.Errorf("audit log after a refused update (-before +after):\n%s", diff)
			}
		})
	}
	if got := tm.get(t, tm.author, n.ID); got.Version != 2 || got.Title != "second" {
		t.Errorf("note at version %d titled %q, want 2, %q", got.Version, got.Title, "second")
	}
}

// TestUpdatePermissions: who may change the author's note, and how a refusal
// reads; every refusal leaves the note at version 1.
func TestUpdatePermissions(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	private := note.VisibilityPrivate
	for _, tc := range []struct {
		name     string
		by       policy.Principal
		vis      note.Visibility // of the author's note
		in       note.UpdateInput
		wantCode qerr.Code
		wantPerm string
	}{
		{"author", tm.author, note.VisibilityOrg, note.UpdateInput{Title: ptr("new")}, "", ""},
		{"another editor", tm.editor, note.VisibilityOrg, note.UpdateInput{Title: ptr("new")}, qerr.Forbidden, "notes:manage"},
		{"viewer", tm.viewer, note.VisibilityOrg, note.UpdateInput{Title: ptr("new")}, qerr.Forbidden, "notes:update"},
		{"admin", tm.admin, note.VisibilityOrg, note.UpdateInput{Title: ptr("new")}, "", ""},
		{"owner", tm.owner, note.VisibilityOrg, note.UpdateInput{Title: ptr("new")}, "", ""},
		{"author makes it private", tm.author, note.VisibilityOrg, note.UpdateInput{Visibility: &private}, "", ""},
		{"admin makes it private", tm.admin, note.VisibilityOrg, note.UpdateInput{Visibility: &private}, qerr.Forbidden, ""},
		{"admin, private note", tm.admin, note.VisibilityPrivate, note.UpdateInput{Title: ptr("new")}, qerr.NotFound, ""},
		{"other organization", tm.outsider, note.VisibilityOrg, note.UpdateInput{Title: ptr("new")}, qerr.NotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := tm.create(t, tm.author, "old", tc.vis)
			_, err := tm.svc.Update(t.Context(), tc.by, n.ID, 1, tc.in)
			wantErr(t, err, tc.wantCode, tc.wantPerm)
			got, wantVersion := tm.get(t, tm.author, n.ID), 1
			if tc.wantCode == "" {
				wantVersion = 2
			}
			if got.Version != wantVersion || len(tm.revisions(t, tm.author, n.ID)) != wantVersion {
				t.Errorf("note at version %d with %d revisions, want %d of each",
					got.Version, len(tm.revisions(t, tm.author, n.ID)), wantVersion)
			}
		})
	}
}

// TestTrashPermissions mirrors TestUpdatePermissions for the trash.
func TestTrashPermissions(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	for _, tc := range []struct {
		name     string
		by       policy.Principal
		wantCode qerr.Code
		wantPerm string
	}{
		{"author", tm.author, "", ""},
		{"another editor", tm.editor, qerr.Forbidden, "notes:manage"},
		{"viewer", tm.viewer, qerr.Forbidden, "notes:delete"},
		{"admin", tm.admin, "", ""},
		{"other organization", tm.outsider, qerr.NotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := tm.create(t, tm.author, "doomed", note.VisibilityOrg)
			_, err := tm.svc.Trash(t.Context(), tc.by, n.ID)
			wantErr(t, err, tc.wantCode, tc.wantPerm)
			if trashed := tm.get(t, tm.author, n.ID).DeletedAt != nil; trashed != (tc.wantCode == "") {
				t.Errorf("note trashed = %v, want %v", trashed, tc.wantCode == "")
			}
		})
	}
}

// TestInputLimits: input past a limit is BAD_USER_INPUT naming the field and
// writes nothing; input at the limit is accepted, so Go and the database's
// CHECK constraints agree on where the limit is.
func TestInputLimits(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	p := tm.author
	target := tm.create(t, p, "target", note.VisibilityOrg)
	tags := func(n, size int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = strings.Repeat(string(rune('a'+i%26)), size-1) + string(rune('a'+i/26))
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		title     string
		body      string
		tags      []string
		wantField string // "" means accepted
	}{
		{"title of 201 characters", strings.Repeat("é", 201), "b", nil, "title"},
		{"blank title", "   ", "b", nil, "title"},
		{"body over 100 KB", "t", strings.Repeat("x", note.MaxBody+1), nil, "body"},
		{"body over 100 KB in multi-byte runes", "t", strings.Repeat("é", note.MaxBody/2+1), nil, "body"},
		{"21 tags", "t", "b", tags(21, 3), "tags"},
		{"tag of 33 characters", "t", "b", tags(1, 33), "tags"},
		{"tag of 33 characters once trimmed and lower-cased", "t", "b", []string{" " + strings.Repeat("A", 33) + " "}, "tags"},
		{"blank tag", "t", "b", []string{"  "}, "tags"},
		{"title of 200 characters", strings.Repeat("é", 200), "b", nil, ""},
		{"body of 100 KB", "t", strings.Repeat("x", note.MaxBody), nil, ""},
		{"20 tags of 32 characters", "t", "b", tags(20, 32), ""},
		{"21 tags, 20 once case duplicates are dropped", "t", "b", append(tags(20, 3), strings.ToUpper(tags(1, 3)[0])), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, op := range []struct {
				name string
				do   func() error
				// rows a success adds: notes, note_revisions, audit_events
				adds map[string]int
			}{
				{"create", func() error {
					_, err := tm.svc.Create(t.Context(), p, note.CreateInput{Title: tc.title, Body: tc.body, Tags: tc.tags})
					return err
				}, map[string]int{"notes": 1, "note_revisions": 1, "audit_events": 1}},
				{"update", func() error {
					cur := tm.get(t, p, target.ID)
					_, err := tm.svc.Update(t.Context(), p, target.ID, cur.Version, note.UpdateInput{Title: &tc.title, Body: &tc.body, Tags: tc.tags})
					return err
				}, map[string]int{"notes": 0, "note_revisions": 1, "audit_events": 1}},
			} {
				before := tm.rowCounts(t, p)
				err := op.do()
				want := map[string]int{}
				for k, v := range before {
					want[k] = v
				}
				if tc.wantField == "" {
					if err != nil {
						t.Fatalf("%s: %v, want it accepted", op.name, err)
					}
					for k, v := range op.adds {
						want[k] += v
					}
				} else {
					wantErr(t, err, qerr.BadUserInput, "")
					if f := qerr.As(err).Field; f != tc.wantField {
						t.Errorf("%s: error names field %q, want %q", op.name, f, tc.wantField)
					}
				}
				if diff := cmp.Diff(want, tm.rowCounts(t, p)); diff != "" {
					t.Errorf("%s: rows (-want +got):\n%s", op.name, diff)
				}
			}
		})
	}
}

// TestTrashRestoreSequence: the trash's state machine, and that a trashed
// note cannot be edited.
func TestTrashRestoreSequence(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	p := tm.author
	n := tm.create(t, p, "note", note.VisibilityOrg)
	for _, tc := range []struct {
		name        string
		do          func() error
		wantCode    qerr.Code
		wantTrashed bool
	}{
		{"trash", func() error { _, err := tm.svc.Trash(t.Context(), p, n.ID); return err }, "", true},
		{"trash again", func() error { _, err := tm.svc.Trash(t.Context(), p, n.ID); return err }, qerr.Conflict, true},
		{"update while trashed", func() error {
			_, err := tm.svc.Update(t.Context(), p, n.ID, 1, note.UpdateInput{Title: ptr("x")})
			return err
		}, qerr.Conflict, true},
		{"restore", func() error { _, err := tm.svc.Restore(t.Context(), p, n.ID); return err }, "", false},
		{"restore again", func() error { _, err := tm.svc.Restore(t.Context(), p, n.ID); return err }, qerr.Conflict, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, tc.do(), tc.wantCode, "")
			if got := tm.get(t, p, n.ID).DeletedAt != nil; got != tc.wantTrashed {
				t.Errorf("trashed = %v, want %v", got, tc.wantTrashed)
			}
		})
	}
}

// TestPageArguments: first and after are validated before any query.
func TestPageArguments(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	tm.create(t, tm.author, "note", note.VisibilityOrg)
	enc := func(s string) *string { return ptr(base64.RawURLEncoding.EncodeToString([]byte(s))) }
	valid := uuid.Must(uuid.NewV7()).String()
	for _, tc := range []struct {
		name      string
		first     *int
		after     *string
		wantField string // "" means accepted
	}{
		{"defaults", nil, nil, ""},
		{"first 1", ptr(1), nil, ""},
		{"first 100", ptr(100), nil, ""},
		{"first 0", ptr(0), nil, "first"},
		{"first -1", ptr(-1), nil, "first"},
		{"first 101", ptr(101), nil, "first"},
		{"empty after", nil, ptr(""), ""},
		{"well-formed after", nil, enc("1700000000000000:" + valid), ""},
		{"after not base64", nil, ptr("garbage!*"), "after"},
		{"after without colon", nil, enc("1700000000000000"), "after"},
		{"after with a bad time", nil, enc("soon:" + valid), "after"},
		{"after with a bad id", nil, enc("1700000000000000:not-a-uuid"), "after"},
		{"after padded base64", nil, ptr(base64.URLEncoding.EncodeToString([]byte("1:" + valid))), "after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for name, list := range map[string]func() (*note.Page, error){
				"List": func() (*note.Page, error) {
					return tm.svc.List(t.Context(), tm.author, tc.first, tc.after, note.Filter{})
				},
				"ListTrash": func() (*note.Page, error) { return tm.svc.ListTrash(t.Context(), tm.author, tc.first, tc.after) },
			} {
				_, err := list()
				if tc.wantField == "" {
					if err != nil {
						t.Errorf("%s: %v, want it accepted", name, err)
					}
					continue
				}
				if qerr.CodeOf(err) != qerr.BadUserInput || qerr.As(err).Field != tc.wantField {
					t.Errorf("%s: %v, want BAD_USER_INPUT on %s", name, err, tc.wantField)
				}
			}
		})
	}
}

// TestPaginationStableUnderWrites: between page 1 and the rest, notes are
// created (newer and, by clock skew, older) and notes of page 1 trashed.
// The keyset cursor neither repeats nor skips any note of the original list;
// of the new ones, only the one sorting after the cursor shows up.
func TestPaginationStableUnderWrites(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	p := tm.author
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tm.clock.Set(start)
	var original []*note.Note
	for i := range 20 {
		original = append(original, tm.create(t, p, "n"+string(rune('a'+i)), note.VisibilityOrg))
	}
	first := 7
	page1, err := tm.svc.List(t.Context(), p, &first, nil, note.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page1.Notes) != first || !page1.HasNext {
		t.Fatalf("page 1: %d notes, HasNext %v; want %d, true", len(page1.Notes), page1.HasNext, first)
	}
	cursor := page1.Cursor(len(page1.Notes) - 1)

	for range 5 {
		tm.create(t, p, "newer", note.VisibilityOrg)
	}
	tm.clock.Set(start.Add(-time.Hour))
	older := tm.create(t, p, "older", note.VisibilityOrg)
	for _, n := range page1.Notes[:2] {
		if _, err := tm.svc.Trash(t.Context(), p, n.ID); err != nil {
			t.Fatal(err)
		}
	}

	rest := collect(t, first, func(size *int, after *string) (*note.Page, error) {
		if after == nil {
			after = &cursor
		}
		return tm.svc.List(t.Context(), p, size, after, note.Filter{})
	})
	got := append(append([]*note.Note{}, page1.Notes...), rest...)
	checkOrder(t, got, createdAt)
	want := append(append([]*note.Note{}, original...), older)
	ids := func(ns []*note.Note) []uuid.UUID {
		out := make([]uuid.UUID, len(ns))
		for i, n := range sortByID(ns) {
			out[i] = n.ID
		}
		return out
	}
	if diff := cmp.Diff(ids(want), ids(got)); diff != "" {
		t.Errorf("page 1 and the pages after its cursor (-want +got):\n%s", diff)
	}
}

// TestAuditOneEventPerChange: each successful change writes exactly one
// audit event, in its transaction; each refused one writes none.
func TestAuditOneEventPerChange(t *testing.T) {
	t.Parallel()
	tm := newTeam(t)
	p := tm.author
	var n *note.Note
	log := tm.auditEvents(t, tm.owner)
	for _, tc := range []struct {
		name       string
		do         func() error
		wantAction string // "" means refused: no event
		by         policy.Principal
	}{
		{"create", func() error {
			var err error
			n, err = tm.svc.Create(t.Context(), p, note.CreateInput{Title: "audited", Body: "b"})
			return err
		}, "note.create", p},
		{"update", func() error {
			_, err := tm.svc.Update(t.Context(), p, n.ID, 1, note.UpdateInput{Body: ptr("c")})
			return err
		}, "note.update", p},
		{"stale update", func() error {
			_, err := tm.svc.Update(t.Context(), p, n.ID, 1, note.UpdateInput{Body: ptr("d")})
			return err
		}, "", p},
		{"forbidden update", func() error {
			_, err := tm.svc.Update(t.Context(), tm.editor, n.ID, 2, note.UpdateInput{Body: ptr("d")})
			return err
		}, "", tm.editor},
		{"invalid update", func() error {
			_, err := tm.svc.Update(t.Context(), p, n.ID, 2, note.UpdateInput{Title: ptr("")})
			return err
		}, "", p},
		{"update by admin", func() error {
			_, err := tm.svc.Update(t.Context(), tm.admin, n.ID, 2, note.UpdateInput{Body: ptr("e")})
			return err
		}, "note.update", tm.admin},
		{"trash", func() error { _, err := tm.svc.Trash(t.Context(), p, n.ID); return err }, "note.trash", p},
		{"trash again", func() error { _, err := tm.svc.Trash(t.Context(), p, n.ID); return err }, "", p},
		{"restore", func() error { _, err := tm.svc.Restore(t.Context(), p, n.ID); return err }, "note.restore", p},
		{"restore again", func() error { _, err := tm.svc.Restore(t.Context(), p, n.ID); return err }, "", p},
	} {
		// Steps run in order on one note; a broken step stops the rest.
		ok := t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			if (err == nil) != (tc.wantAction != "") {
				t.Fatalf("%v, want success = %v", err, tc.wantAction != "")
			}
			if tc.wantAction != "" {
				log = append(log, auditEvent{Action: tc.wantAction, ActorID: uuid.UUID(tc.by.UserID), TargetID: n.ID, Decision: "ALLOWED"})
			}
			if diff := cmp.Diff(log, tm.auditEvents(t, tm.owner)); diff != "" {
				t.Fatalf("audit log (-want +got):\n%s", diff)
			}
		})
		if !ok {
			t.FailNow()
		}
	}
	// The other organization's log holds none of it.
	for _, ev := range tm.auditEvents(t, tm.outsider) {
		if ev.TargetID == n.ID {
			t.Errorf("other organization's log holds %+v", ev)
		}
	}
}
