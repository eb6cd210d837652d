package audit

import (
	"time"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/page"
)

// Entry is an audit event as the audit log shows it.
type Entry struct {
	ID               uuid.UUID
	Action           string
	Decision         string
	Reason           *string
	Permission       *string
	ActorID          *uuid.UUID
	APIKeyID         *uuid.UUID
	TargetType       *string
	TargetID         *uuid.UUID
	CreatedAt        time.Time
	RequestID        *string
	PlatformOverride bool
}

// Filter narrows the audit log; nil fields do not filter.
type Filter struct {
	Action   *string
	ActorID  *uuid.UUID
	Decision *string
}

// Page is one page of the audit log, newest first.
type Page struct {
	Entries []*Entry
	HasNext bool
}

// Cursor returns the opaque cursor of the i-th entry of the page.
func (p *Page) Cursor(i int) string {
	e := p.Entries[i]
	return page.Cursor{Time: e.CreatedAt, ID: e.ID}.Encode()
}
