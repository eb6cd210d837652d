package audit_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/audit"
	"github.com/quirehq/quire/internal/page"
	"github.com/quirehq/quire/internal/pgtest"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func ptr[T any](v T) *T { return &v }

// world is two organizations' worth of audit events and an org-less one.
type world struct {
	st           *store.Store
	orgA, orgB   uuid.UUID
	actor        uuid.UUID
	newestFirstA []uuid.UUID // A's event ids as the log must order them
}

// fixture builds the world. Several events share one transaction, so one
// created_at: pages must break those ties by id.
func fixture(t *testing.T) world {
	t.Helper()
	db := pgtest.New(t)
	st, err := store.Open(t.Context(), db.AppURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	w := world{st: st, orgA: uuid.Must(uuid.NewV7()), orgB: uuid.Must(uuid.NewV7()), actor: uuid.Must(uuid.NewV7())}
	super := db.Super(t)
	if _, err := super.Exec(t.Context(), `INSERT INTO users (id, email) VALUES ($1, 'actor@example.com')`, w.actor); err != nil {
		t.Fatal(err)
	}
	for _, o := range []uuid.UUID{w.orgA, w.orgB} {
		if _, err := super.Exec(t.Context(), `INSERT INTO organizations (id, name, slug) VALUES ($1, 'o', $2)`, o, o.String()[24:]); err != nil {
			t.Fatal(err)
		}
	}
	w.record(t, w.orgA, audit.Event{Action: "a.one"}, audit.Event{Action: "a.two"},
		audit.Event{Action: "a.three", Denied: true, Permission: "notes:create", Reason: "no"})
	w.record(t, w.orgB, audit.Event{Action: "b.one"})
	w.record(t, w.orgA, audit.Event{Action: "a.four"}, audit.Event{Action: "a.five"})
	w.record(t, uuid.Nil, audit.Event{Action: "global"})
	err = super.QueryRow(t.Context(), `SELECT array_agg(id ORDER BY created_at DESC, id DESC) FROM audit_events WHERE org_id = $1`,
		w.orgA).Scan(&w.newestFirstA)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// record writes events as w.actor in one transaction of org (uuid.Nil:
// outside any organization).
func (w world) record(t *testing.T, org uuid.UUID, events ...audit.Event) {
	t.Helper()
	p := policy.Principal{UserID: policy.ID(w.actor), OrgID: policy.ID(org)}
	err := w.st.InOrgTx(t.Context(), org, w.actor, func(q *store.Queries) error {
		for _, e := range events {
			var err error
			if org == uuid.Nil {
				err = audit.RecordGlobal(t.Context(), q, w.actor, e)
			} else {
				err = audit.Record(t.Context(), q, p, e)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestListPagesThroughTies: any page size walks the same sequence, newest
// first by (created_at, id), ties inside one transaction included, with
// nothing of another organization and nothing org-less.
func TestListPagesThroughTies(t *testing.T) {
	t.Parallel()
	w := fixture(t)
	st, orgA, want := w.st, w.orgA, w.newestFirstA
	if len(want) != 5 {
		t.Fatalf("fixture has %d events in A, want 5", len(want))
	}
	for _, size := range []int{1, 2, 3, 5, 6} {
		var got []uuid.UUID
		var after *page.Cursor
		for more := true; more; {
			err := st.InOrgTx(t.Context(), orgA, uuid.Nil, func(q *store.Queries) error {
				pg, err := audit.List(t.Context(), q, orgA, size, after, audit.Filter{})
				if err != nil {
					return err
				}
				for i, e := range pg.Entries {
					got = append(got, e.ID)
					c, err := page.Decode(ptr(pg.Cursor(i)))
					if err != nil {
						return err
					}
					after = c
				}
				more = pg.HasNext
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("pages of %d (-want +got):\n%s", size, diff)
		}
	}
}

// TestListAndCountFilter: filters narrow List and Count alike, and an
// organization's wall shows nothing of another's even when asked for it.
func TestListAndCountFilter(t *testing.T) {
	t.Parallel()
	w := fixture(t)
	st, orgA, orgB, actor := w.st, w.orgA, w.orgB, w.actor
	cases := []struct {
		name string
		in   uuid.UUID // the transaction's organization
		org  uuid.UUID // the organization asked for
		f    audit.Filter
		want []string
	}{
		{"all of A", orgA, orgA, audit.Filter{}, []string{"a.five", "a.four", "a.three", "a.two", "a.one"}},
		{"action", orgA, orgA, audit.Filter{Action: ptr("a.two")}, []string{"a.two"}},
		{"actor", orgA, orgA, audit.Filter{ActorID: &actor}, []string{"a.five", "a.four", "a.three", "a.two", "a.one"}},
		{"other actor", orgA, orgA, audit.Filter{ActorID: ptr(uuid.Must(uuid.NewV7()))}, []string{}},
		{"denied", orgA, orgA, audit.Filter{Decision: ptr(audit.Denied)}, []string{"a.three"}},
		{"allowed", orgA, orgA, audit.Filter{Decision: ptr(audit.Allowed), Action: ptr("a.one")}, []string{"a.one"}},
		{"B", orgB, orgB, audit.Filter{}, []string{"b.one"}},
		{"B asked from A's wall", orgA, orgB, audit.Filter{}, []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := st.InOrgTx(t.Context(), tc.in, uuid.Nil, func(q *store.Queries) error {
				pg, err := audit.List(t.Context(), q, tc.org, 100, nil, tc.f)
				if err != nil {
					return err
				}
				got := []string{}
				for _, e := range pg.Entries {
					got = append(got, e.Action)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("List (-want +got):\n%s", diff)
				}
				n, err := audit.Count(t.Context(), q, tc.org, tc.f)
				if n != len(tc.want) {
					t.Errorf("Count = %d, want %d", n, len(tc.want))
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestFilterValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		decision *string
		want     qerr.Code
	}{
		{nil, ""},
		{ptr("ALLOWED"), ""},
		{ptr("DENIED"), ""},
		{ptr("allowed"), qerr.BadUserInput},
		{ptr("ALLOW"), qerr.BadUserInput},
		{ptr(""), qerr.BadUserInput},
	} {
		if got := qerr.CodeOf(audit.Filter{Decision: tc.decision}.Validate()); got != tc.want {
			t.Errorf("Validate(decision %v) = %q, want %q", tc.decision, got, tc.want)
		}
	}
}
