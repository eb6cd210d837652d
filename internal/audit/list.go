package audit

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/page"
	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/store"
)

// The decisions an event records.
const (
	Allowed = "ALLOWED"
	Denied  = "DENIED"
)

// Validate refuses a filter no event could match for a reason the client
// should hear about: a decision other than ALLOWED or DENIED is
// BAD_USER_INPUT naming filter.decision, and an action PostgreSQL's text
// cannot hold (NUL, invalid UTF-8: its refusal would be INTERNAL) is
// BAD_USER_INPUT naming filter.action.
func (f Filter) Validate() error {
	if f.Decision != nil && *f.Decision != Allowed && *f.Decision != Denied {
		return qerr.Invalid("filter.decision", "decision must be %s or %s", Allowed, Denied)
	}
	if f.Action != nil && (!utf8.ValidString(*f.Action) || strings.ContainsRune(*f.Action, 0)) {
		return qerr.Invalid("filter.action", "action must be UTF-8 text without NUL characters")
	}
	return nil
}

// List returns up to size events of org's audit log after cursor (nil: from
// the newest), newest first, narrowed by f. It runs on q, inside the
// caller's transaction in org's wall; the query filters org_id as well, so
// org-less events and other organizations' never appear. f must have been
// validated.
func List(ctx context.Context, q *store.Queries, org uuid.UUID, size int, after *page.Cursor, f Filter) (*Page, error) {
	params := store.ListAuditEventsParams{
		OrgID: org, Lim: int32(size + 1),
		Action: f.Action, ActorID: f.ActorID, Decision: f.Decision,
	}
	start := after.Or(page.Newest)
	params.AfterCreatedAt, params.AfterID = start.Time, start.ID
	rows, err := q.ListAuditEvents(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	// The extra row fetched tells whether there is a next page.
	pg := &Page{HasNext: len(rows) > size}
	if pg.HasNext {
		rows = rows[:size]
	}
	pg.Entries = make([]*Entry, len(rows))
	for i, r := range rows {
		pg.Entries[i] = &Entry{
			ID: r.ID, Action: r.Action, Decision: r.Decision, Reason: r.Reason, Permission: r.Permission,
			ActorID: r.ActorID, APIKeyID: r.ApiKeyID, TargetType: r.TargetType, TargetID: r.TargetID,
			CreatedAt: r.CreatedAt, RequestID: r.RequestID, PlatformOverride: r.Override,
		}
	}
	return pg, nil
}

// Count returns how many events List would return over all pages. Like
// List, it runs on q inside the caller's transaction in org's wall.
func Count(ctx context.Context, q *store.Queries, org uuid.UUID, f Filter) (int, error) {
	n, err := q.CountAuditEvents(ctx, store.CountAuditEventsParams{
		OrgID: org, Action: f.Action, ActorID: f.ActorID, Decision: f.Decision,
	})
	if err != nil {
		return 0, fmt.Errorf("count audit events: %w", err)
	}
	return int(n), nil
}
