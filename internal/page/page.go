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

// Cursor is a keyset position: the sort time and id of the last row seen.
// Clients see it only as an opaque string.
type Cursor struct {
	Time time.Time
	ID   uuid.UUID
}

// Encode returns the cursor's opaque form.
func (c Cursor) Encode() string {
	raw := strconv.FormatInt(c.Time.UnixMicro(), 10) + ":" + c.ID.String()
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
	u, err := uuid.Parse(id)
	if err != nil {
		return nil, bad
	}
	return &Cursor{Time: time.UnixMicro(micros).UTC(), ID: u}, nil
}
