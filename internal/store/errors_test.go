package store_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/store"
)

// TestInOrgTxMapsErrors: what fn returns comes back as a qerr where its
// meaning is known, with the cause kept for the log.
func TestInOrgTxMapsErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	owner := f.user(t, "owner")
	orgID := f.org(t, owner, "Taken") // slug "taken"
	forbidden := qerr.Denied("notes:manage", "because")
	boom := errors.New("boom")

	for _, tc := range []struct {
		name string
		// newOrg runs fn in the transaction of a new organization's id
		// rather than orgID's.
		newOrg   bool
		fn       func(t *testing.T, q *store.Queries, org uuid.UUID) error
		wantCode qerr.Code
		wantMsg  string // the client message; "" skips
		wantPG   string // SQLSTATE still reachable through Unwrap; "" skips
	}{
		{
			name:   "duplicate organization slug",
			newOrg: true, // RLS admits an INSERT only into the transaction's own organization
			fn: func(t *testing.T, q *store.Queries, org uuid.UUID) error {
				_, err := q.CreateOrganization(t.Context(), store.CreateOrganizationParams{OrgID: org, Name: "Other", Slug: "taken"})
				return err
			},
			wantCode: qerr.Conflict,
			wantMsg:  "an organization with this slug already exists",
			wantPG:   "23505",
		},
		{
			name: "no rows from a :one query",
			fn: func(t *testing.T, q *store.Queries, _ uuid.UUID) error {
				_, err := q.GetUser(t.Context(), uuid.Must(uuid.NewV7()))
				return err
			},
			wantCode: qerr.NotFound,
		},
		{
			name: "no rows, wrapped",
			fn: func(t *testing.T, q *store.Queries, _ uuid.UUID) error {
				_, err := q.GetOrganization(t.Context(), uuid.Must(uuid.NewV7()))
				return fmt.Errorf("get organization: %w", err)
			},
			wantCode: qerr.NotFound,
		},
		{
			name: "check violation",
			fn: func(t *testing.T, q *store.Queries, _ uuid.UUID) error {
				_, err := q.CreateUser(t.Context(), store.CreateUserParams{
					ID: uuid.Must(uuid.NewV7()), Email: "UPPER@example.com", PlatformRole: "USER",
				})
				return err
			},
			wantCode: qerr.BadUserInput,
			wantPG:   "23514",
		},
		{
			name:     "qerr passes unchanged",
			fn:       func(*testing.T, *store.Queries, uuid.UUID) error { return forbidden },
			wantCode: qerr.Forbidden,
			wantMsg:  forbidden.Message,
		},
		{
			name:     "anything else stays internal",
			fn:       func(*testing.T, *store.Queries, uuid.UUID) error { return boom },
			wantCode: qerr.Internal,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			org := orgID
			if tc.newOrg {
				org = uuid.Must(uuid.NewV7())
			}
			err := f.st.InOrgTx(t.Context(), org, owner, func(q *store.Queries) error { return tc.fn(t, q, org) })
			if got := qerr.CodeOf(err); got != tc.wantCode {
				t.Fatalf("InOrgTx: %v (code %s), want code %s", err, got, tc.wantCode)
			}
			if tc.wantMsg != "" && qerr.As(err).Message != tc.wantMsg {
				t.Errorf("message %q, want %q", qerr.As(err).Message, tc.wantMsg)
			}
			var pgErr *pgconn.PgError
			if tc.wantPG != "" && (!errors.As(err, &pgErr) || pgErr.Code != tc.wantPG) {
				t.Errorf("cause %v, want a PostgreSQL error %s kept under the qerr", err, tc.wantPG)
			}
		})
	}
	if err := f.st.InOrgTx(t.Context(), orgID, owner, func(*store.Queries) error { return forbidden }); err != forbidden {
		t.Errorf("a *qerr.Error from fn came back as %#v, want the same value", err)
	}
	if err := f.st.InOrgTx(t.Context(), orgID, owner, func(*store.Queries) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("a plain error from fn came back as %v, want it unchanged", err)
	}
}

// TestInOrgTxRollsBack: an error from fn undoes everything fn wrote.
func TestInOrgTxRollsBack(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := uuid.Must(uuid.NewV7())
	boom := errors.New("boom")
	err := f.st.InTx(t.Context(), func(q *store.Queries) error {
		if _, err := q.CreateUser(t.Context(), store.CreateUserParams{ID: id, Email: "gone@example.com", PlatformRole: "USER"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx: %v, want boom", err)
	}
	err = f.st.InTx(t.Context(), func(q *store.Queries) error {
		_, err := q.GetUser(t.Context(), id)
		return err
	})
	if !qerr.Is(err, qerr.NotFound) {
		t.Errorf("user written by a failed transaction: GetUser = %v, want NOT_FOUND", err)
	}
}

// TestInOrgTxSettingsDoNotOutliveTx: with one pooled connection, the next
// transaction without an organization sees nothing of the previous one's
// organization, so a pooled (or PgBouncer) connection carries no tenant.
func TestInOrgTxSettingsDoNotOutliveTx(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	owner := f.user(t, "owner")
	orgID := f.org(t, owner, "Acme")
	one, err := store.Open(t.Context(), f.db.AppURL, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	get := func(st *store.Store, org, user uuid.UUID) error {
		return st.InOrgTx(t.Context(), org, user, func(q *store.Queries) error {
			_, err := q.GetOrganization(t.Context(), orgID)
			return err
		})
	}
	if err := get(one, orgID, owner); err != nil {
		t.Fatalf("inside its own transaction: %v", err)
	}
	if err := get(one, uuid.Nil, uuid.Nil); !qerr.Is(err, qerr.NotFound) {
		t.Errorf("next transaction on the same connection, no tenant: %v, want NOT_FOUND", err)
	}
	if err := get(one, uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())); !qerr.Is(err, qerr.NotFound) {
		t.Errorf("another organization's transaction: %v, want NOT_FOUND", err)
	}
	if err := get(one, uuid.Nil, owner); err != nil {
		// The one deliberate cross-organization read: a member sees the
		// organizations they belong to before choosing one.
		t.Errorf("no organization, its member: %v, want the organization", err)
	}
}

// TestInOrgReadIsOneRoundTrip: a one-statement read runs in the implicit
// transaction of its pipeline, in one round trip of two statements; its
// tenant settings hold for the statement and not beyond it; a second
// statement is refused; and an error of the statement is mapped as in
// InOrgTx.
func TestInOrgReadIsOneRoundTrip(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	owner := f.user(t, "owner")
	orgID := f.org(t, owner, "Acme")
	one, err := store.Open(t.Context(), f.db.AppURL, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	get := func(org, user uuid.UUID) error {
		return one.InOrgRead(t.Context(), org, user, func(q *store.Queries) error {
			_, err := q.GetOrganization(t.Context(), orgID)
			return err
		})
	}
	before := one.Stats()
	stmts, trips := before.Statements(), before.RoundTrips()
	if err := get(orgID, owner); err != nil {
		t.Fatalf("inside its own read: %v", err)
	}
	if got := one.Stats().RoundTrips() - trips; got != 1 {
		t.Errorf("round trips: %d, want 1", got)
	}
	if got := one.Stats().Statements() - stmts; got != 2 {
		t.Errorf("statements: %d, want 2 (app_enter and the read)", got)
	}
	// The same single connection, in the next read and in a transaction:
	// nothing of Acme is left.
	if err := get(uuid.Nil, uuid.Nil); !qerr.Is(err, qerr.NotFound) {
		t.Errorf("next read on the same connection, no tenant: %v, want NOT_FOUND", err)
	}
	if err := get(orgID, owner); err != nil {
		t.Fatalf("again inside its own read: %v", err)
	}
	err = one.InOrgTx(t.Context(), uuid.Nil, uuid.Nil, func(q *store.Queries) error {
		_, err := q.GetOrganization(t.Context(), orgID)
		return err
	})
	if !qerr.Is(err, qerr.NotFound) {
		t.Errorf("transaction after a read on the same connection, no tenant: %v, want NOT_FOUND", err)
	}
	err = one.InOrgRead(t.Context(), orgID, owner, func(q *store.Queries) error {
		if _, err := q.GetOrganization(t.Context(), orgID); err != nil {
			return err
		}
		_, err := q.GetOrganization(t.Context(), orgID)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "second statement") {
		t.Errorf("second statement of a read: %v, want it refused", err)
	}
	if err := get(uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())); !qerr.Is(err, qerr.NotFound) {
		t.Errorf("another organization's read: %v, want NOT_FOUND", err)
	}
	if err := get(orgID, owner); err != nil {
		t.Fatalf("the connection after a refused statement: %v", err)
	}
}
