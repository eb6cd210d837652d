package page_test

import (
	"math"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/page"
	"github.com/quirehq/quire/internal/qerr"
)

// FuzzDecode: an after argument is client input. Decode never panics,
// refuses with BAD_USER_INPUT only, and whatever it accepts is a cursor
// Encode could have written: its time inside PostgreSQL's range, a finite
// rank, and re-encoding gives a cursor that decodes to the same position
// and is itself stable.
func FuzzDecode(f *testing.F) {
	rank := float32(0.0607927)
	for _, c := range []page.Cursor{
		{Time: time.Date(2025, 3, 1, 12, 0, 0, 123456000, time.UTC), ID: uuid.MustParse("01a20588-0000-7000-8000-000000000001")},
		{Time: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), ID: uuid.Max, Rank: &rank},
		{Time: time.Unix(0, 0).UTC(), ID: uuid.Nil},
	} {
		f.Add(c.Encode())
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := page.Decode(&s)
		if err != nil {
			if e := qerr.As(err); e == nil || e.Code != qerr.BadUserInput {
				t.Fatalf("Decode(%q) = %v, want BAD_USER_INPUT", s, err)
			}
			return
		}
		if c == nil {
			if s != "" {
				t.Fatalf("Decode(%q) = nil, nil: only \"\" is the start", s)
			}
			return
		}
		if c.Time.Year() < 1 || c.Time.Year() > 9999 || c.Time.Location() != time.UTC {
			t.Fatalf("Decode(%q) accepted time %v", s, c.Time)
		}
		if c.Rank != nil && (math.IsNaN(float64(*c.Rank)) || math.IsInf(float64(*c.Rank), 0)) {
			t.Fatalf("Decode(%q) accepted rank %v", s, *c.Rank)
		}
		enc := c.Encode()
		back, err := page.Decode(&enc)
		if err != nil {
			t.Fatalf("Decode(%q) = %+v, whose Encode %q does not decode: %v", s, c, enc, err)
		}
		if !samePosition(*c, *back) {
			t.Fatalf("Decode(%q) = %+v, re-encoded as %q, decodes to %+v", s, c, enc, back)
		}
		if again := back.Encode(); again != enc {
			t.Fatalf("Encode is not stable: %q then %q", enc, again)
		}
	})
}

func samePosition(a, b page.Cursor) bool {
	if !a.Time.Equal(b.Time) || a.ID != b.ID || (a.Rank == nil) != (b.Rank == nil) {
		return false
	}
	return a.Rank == nil || math.Float32bits(*a.Rank) == math.Float32bits(*b.Rank)
}
