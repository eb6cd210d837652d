package store

import "context"

// ListNotesEach is ListNotes (notes.sql.go, generated) handing each row to
// fn instead of returning them: the caller keeps what it needs, where it
// needs it, and the hottest statement allocates no array of its own. The
// generated one starts from an empty slice and doubles it, so a page of 21
// rows allocated room for 63, a third of a list request's allocations, and
// the page was then copied once more; sqlc has no capacity hint
// (sqlc-dev/sqlc#4031). It runs the same statement and scans the same
// columns in the same order; TestListNotesEachMatchesListNotes holds the
// two together.
//
// fn's row is the same variable every time, valid until fn returns. Scan
// takes its fields as a slice that escapes, and one slice serves every
// row. The columns with a few values (CHECK ... IN) are scanned by spelled.
func (q *Queries) ListNotesEach(ctx context.Context, arg ListNotesParams, fn func(*ListNotesRow)) error {
	res, err := q.db.Query(ctx, listNotes,
		arg.OrgID,
		arg.UserID,
		arg.AfterCreatedAt,
		arg.AfterID,
		arg.Tags,
		arg.AuthorID,
		arg.Visibility,
		arg.Lim,
	)
	if err != nil {
		return err
	}
	defer res.Close()
	var i ListNotesRow
	dest := []any{
		&i.ID,
		&i.AuthorID,
		&i.Title,
		&i.Body,
		&i.Tags,
		spelled{&i.Visibility},
		&i.Version,
		&i.CreatedAt,
		&i.UpdatedAt,
		&i.AuthorEmail,
		&i.AuthorDisplayName,
		spelled{&i.AuthorPlatformRole},
		spelled{&i.AuthorStatus},
		&i.AuthorCreatedAt,
	}
	for res.Next() {
		i = ListNotesRow{}
		if err := res.Scan(dest...); err != nil {
			return err
		}
		fn(&i)
	}
	return res.Err()
}

// spelling holds the values of the text columns whose CHECK constraints
// allow only a few (notes.visibility, users.platform_role, users.status).
var spelling = []string{"ORG", "PRIVATE", "USER", "ADMIN", "SUPERADMIN", "ACTIVE", "DEACTIVATED"}

// spelled scans a text column into a string that is one of spelling's
// when the value is, so such a column costs no allocation: three a row of
// the notes page. Any other value is copied as pgx would copy it.
type spelled struct{ dst *string }

// ScanBytes implements pgtype.BytesScanner; b is pgx's read buffer.
func (s spelled) ScanBytes(b []byte) error {
	for _, v := range spelling {
		if string(b) == v {
			*s.dst = v
			return nil
		}
	}
	*s.dst = string(b)
	return nil
}
