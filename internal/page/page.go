// Package page holds what Relay-style connections share: the page size rule
// and opaque keyset cursors.
package page

import (
	"encoding/base64"
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

// Decode reads an after argument; nil or "" is the start.
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
	if ranked {
		r, err := strconv.ParseFloat(rank, 32)
		if err != nil {
			return nil, bad
		}
		r32 := float32(r)
		c.Rank = &r32
	}
	return c, nil
}
