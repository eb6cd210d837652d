package model

import (
	"github.com/quirehq/quire/internal/account"
	"github.com/quirehq/quire/internal/audit"
	"github.com/quirehq/quire/internal/note"
	"github.com/quirehq/quire/internal/org"
	"github.com/quirehq/quire/internal/policy"
)

// NoteConnection is a page of notes. totalCount is resolved only when asked
// for, by counting with the same filter in the same principal's view.
type NoteConnection struct {
	Page      *note.Page
	Principal policy.Principal
	Filter    note.Filter
	Trash     bool
}

// UserConnection is a page of users; totalCount counts with the same query
// when asked for.
type UserConnection struct {
	Page  *account.UserPage
	Query *string
}

// MemberConnection is a page of members; totalCount counts on demand.
type MemberConnection struct {
	Page      *org.MemberPage
	Principal policy.Principal
}

// AuditEventConnection is a page of the audit log; totalCount counts with
// the same filter on demand.
type AuditEventConnection struct {
	Page      *audit.Page
	Principal policy.Principal
	Filter    audit.Filter
}
