// Package page holds what Relay-style connections share: the page size rule
// and opaque keyset cursors.
package page

import (
	"encoding/base64"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/qerr"
)

// Page sizes: first defaults to DefaultSize and may not exceed MaxSize.
const (
	DefaultSize = 20
	MaxSize     = 100
)

// Size validates a client's first argument.
func Size(first *int) (int, error) {
	if first == nil {
		return DefaultSize, nil
	}
	if *first < 1 || *first > MaxSize {
		return 0, qerr.Invalid("first", "first must be between 1 and %d", MaxSize)
	}
	return *first, nil
}

// Cursor is a keyset position: the sort time and id of the last row seen,
// and for a ranked list (search) its rank, which sorts first. Clients see it
// only as an opaque string.
type Cursor struct {
	Time time.Time
	ID   uuid.UUID
	Rank *float32
}

// Encode returns the cursor's opaque form. A cursor without a rank encodes
// as it always has, so cursors already handed out keep working.
func (c Cursor) Encode() string {
	raw := strconv.FormatInt(c.Time.UnixMicro(), 10) + ":" + c.ID.String()
	if c.Rank != nil {
		// The shortest form that parses back to the same float32, so the
		// next page compares against exactly the rank the database gave.
		raw += ":" + strconv.FormatFloat(float64(*c.Rank), 'g', -1, 32)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// The times a cursor may carry. Encode only ever sees rows' times, and
// PostgreSQL refuses a timestamptz before 4713 BC or after 294276 AD (an
// INTERNAL error, not the client's BAD_USER_INPUT), so a forged cursor with
// a time outside these years is refused here.
var (
	minTime = time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, time.December, 31, 23, 59, 59, 999999000, time.UTC)
)

// Newest and Oldest stand for "no cursor": a newest-first list starts after
// Newest, an oldest-first one after Oldest. Their times lie outside the
// years a cursor may carry, so every row and every cursor sorts between
// them. The list statements compare (time, id) with a cursor always, never
// "cursor IS NULL OR …": a plain row comparison is what lets the generic
// plan (migration 00014) start its index scan at the cursor.
var (
	Newest = Cursor{Time: maxTime.Add(time.Microsecond), ID: uuid.Max}
	Oldest = Cursor{Time: minTime.Add(-time.Microsecond), ID: uuid.Nil}
)

// Or returns *c, or def when c is nil.
func (c *Cursor) Or(def Cursor) Cursor {
	if c == nil {
		return def
	}
	return *c
}

// Decode reads an after argument; nil or "" is the start. Anything Encode
// could not have written is BAD_USER_INPUT.
func Decode(after *string) (*Cursor, error) {
	if after == nil || *after == "" {
		return nil, nil
	}
	bad := qerr.Invalid("after", "after is not a cursor returned by this list")
	raw, err := base64.RawURLEncoding.DecodeString(*after)
	if err != nil {
		return nil, bad
	}
	ts, id, ok := strings.Cut(string(raw), ":")
	if !ok {
		return nil, bad
	}
	micros, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nil, bad
	}
	id, rank, ranked := strings.Cut(id, ":")
	u, err := uuid.Parse(id)
	if err != nil {
		return nil, bad
	}
	c := &Cursor{Time: time.UnixMicro(micros).UTC(), ID: u}
	if c.Time.Before(minTime) || c.Time.After(maxTime) {
		return nil, bad
	}
	if ranked {
		// A rank is ts_rank_cd's, always finite: NaN and ±Inf are forged.
		r, err := strconv.ParseFloat(rank, 32)
		if err != nil || math.IsNaN(r) || math.IsInf(r, 0) {
			return nil, bad
		}
		r32 := float32(r)
		c.Rank = &r32
	}
	return c, nil
}
