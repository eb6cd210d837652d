package store_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/pgtest"
	"github.com/quirehq/quire/internal/store"
)

// TestInOrgTxRefusesAnAbortedTransaction: when fn swallows an error,
// PostgreSQL's COMMIT quietly rolls back; InOrgTx must say so, and nothing
// fn wrote may remain.
func TestInOrgTxRefusesAnAbortedTransaction(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	st, err := store.Open(t.Context(), db.AppURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	first, dup := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	err = st.InTx(t.Context(), func(q *store.Queries) error {
		if _, err := q.CreateUser(t.Context(), store.CreateUserParams{ID: first, Email: "kept@example.com", PlatformRole: "USER"}); err != nil {
			return err
		}
		// A duplicate email aborts the transaction; the error is dropped.
		_, _ = q.CreateUser(t.Context(), store.CreateUserParams{ID: dup, Email: "kept@example.com", PlatformRole: "USER"})
		return nil
	})
	if err == nil {
		t.Fatal("InOrgTx reported success for a transaction PostgreSQL rolled back")
	}
	if _, err := st.Global().GetUser(t.Context(), first); err != store.ErrNoRows {
		t.Errorf("the first insert survived: %v", err)
	}
	// The pooled connection is usable afterwards: no transaction left open.
	for range 3 {
		if err := st.InTx(t.Context(), func(q *store.Queries) error {
			_, err := q.ListUsersByIDs(t.Context(), []uuid.UUID{first})
			return err
		}); err != nil {
			t.Fatalf("next transaction on the pool: %v", err)
		}
	}
}
