// Package note is notes: writing them with optimistic concurrency and a
// revision per version, the trash, and the lists — which apply the same
// object rules as policy.Can, in SQL.
package note

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/store"
)

// Limits on what a note holds.
const (
	MaxTitle   = 200    // characters
	MaxBody    = 102400 // bytes
	MaxTags    = 20
	MaxTagSize = 32 // characters
)

// Visibility says who may see a note.
type Visibility string

// Visibilities: ORG for every member with notes:read, PRIVATE for its author.
const (
	VisibilityOrg     Visibility = "ORG"
	VisibilityPrivate Visibility = "PRIVATE"
)

// MarshalGQL writes the visibility as a GraphQL enum value.
func (v Visibility) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(v))) }

// UnmarshalGQL reads a GraphQL enum value.
func (v *Visibility) UnmarshalGQL(x any) error {
	s, _ := x.(string)
	if s != string(VisibilityOrg) && s != string(VisibilityPrivate) {
		return fmt.Errorf("%q is not a NoteVisibility", s)
	}
	*v = Visibility(s)
	return nil
}

// Note is a note as a client sees it.
type Note struct {
	ID         uuid.UUID
	OrgID      uuid.UUID
	AuthorID   uuid.UUID
	Title      string
	Body       string
	Tags       []string
	Visibility Visibility
	Version    int
	CreatedAt  time.Time
	UpdatedAt  time.Time
	DeletedAt  *time.Time
}

// Resource returns the note as policy sees it.
func (n *Note) Resource() policy.Resource {
	return policy.Note(policy.ID(n.OrgID), policy.ID(n.AuthorID), n.Visibility == VisibilityPrivate)
}

func fromStore(n store.Note) *Note {
	return &Note{
		ID: n.ID, OrgID: n.OrgID, AuthorID: n.AuthorID, Title: n.Title, Body: n.Body, Tags: n.Tags,
		Visibility: Visibility(n.Visibility), Version: int(n.Version),
		CreatedAt: n.CreatedAt, UpdatedAt: n.UpdatedAt, DeletedAt: n.DeletedAt,
	}
}

// Revision is one version of a note.
type Revision struct {
	Version   int
	Title     string
	Body      string
	EditedBy  uuid.UUID
	CreatedAt time.Time
}

// CreateInput is what createNote takes.
type CreateInput struct {
	Title      string
	Body       string
	Tags       []string
	Visibility *Visibility
}

// UpdateInput is what updateNote takes; nil fields stay as they are.
type UpdateInput struct {
	Title      *string
	Body       *string
	Tags       []string
	Visibility *Visibility
}

// Filter narrows a list; zero fields do not filter.
type Filter struct {
	Search     *string
	Tags       []string
	AuthorID   *uuid.UUID
	Visibility *Visibility
}

// storable reports whether PostgreSQL's text can hold s: it refuses NUL
// and invalid UTF-8 with an error that would reach the client as INTERNAL,
// so they are refused here as BAD_USER_INPUT.
func storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

func validTitle(t string) (string, error) {
	t = strings.TrimSpace(t)
	if !storable(t) {
		return "", qerr.Invalid("title", "title must be UTF-8 text without NUL characters")
	}
	if t == "" || utf8.RuneCountInString(t) > MaxTitle {
		return "", qerr.Invalid("title", "title must be 1 to %d characters", MaxTitle)
	}
	return t, nil
}

func validBody(b string) error {
	if len(b) > MaxBody {
		return qerr.Invalid("body", "body must be at most %d bytes", MaxBody)
	}
	if !storable(b) {
		return qerr.Invalid("body", "body must be UTF-8 text without NUL characters")
	}
	return nil
}

// validTags normalises tags: trimmed, lower-cased, duplicates dropped, first
// occurrence's order kept. Each must then be 1 to MaxTagSize characters and
// there may be at most MaxTags of them.
func validTags(tags []string) ([]string, error) {
	out := make([]string, 0, len(tags))
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		// Checked before lowering: ToLower would quietly turn invalid
		// UTF-8 into U+FFFD.
		if !storable(t) {
			return nil, qerr.Invalid("tags", "tags must be UTF-8 text without NUL characters")
		}
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" || utf8.RuneCountInString(t) > MaxTagSize {
			return nil, qerr.Invalid("tags", "each tag must be 1 to %d characters", MaxTagSize)
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	if len(out) > MaxTags {
		return nil, qerr.Invalid("tags", "at most %d tags", MaxTags)
	}
	return out, nil
}

// Event is a change to a note, as a subscriber receives it.
type Event struct {
	Kind string // CREATED, UPDATED, DELETED or RESTORED
	Note *Note
}
