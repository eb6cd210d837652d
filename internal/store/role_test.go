package store_test

import (
	"strings"
	"testing"

	"github.com/quirehq/quire/internal/pgtest"
	"github.com/quirehq/quire/internal/store"
)

// TestCheckRole: the server refuses to run as a role RLS does not hold.
func TestCheckRole(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	for _, tc := range []struct {
		name    string
		url     string
		wantErr string // "" for none
	}{
		{"app role passes", db.AppURL, ""},
		{"table owner refused", db.OwnerURL, "owns tables"},
		{"superuser refused", db.SuperURL, "superuser"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := store.Open(t.Context(), tc.url, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			err = st.CheckRole(t.Context())
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("CheckRole: %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("CheckRole: %v, want an error naming %q", err, tc.wantErr)
			}
		})
	}
}
