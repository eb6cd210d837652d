package store

import "context"

// ListNotesInto is ListNotes (notes.sql.go, generated) appending to rows:
// given a slice with room for the page, the hottest statement grows no
// array of its own. The generated one starts from an empty slice and
// doubles it, so a page of 21 rows allocated room for 63, about a third of
// a list request's allocations. sqlc has no capacity hint
// (sqlc-dev/sqlc#4031). It runs the same statement and scans the same
// columns in the same order; TestListNotesIntoMatchesListNotes holds the
// two together. Each row is scanned into one variable and copied: Scan takes
// its fields as a slice that escapes, and one slice serves every row.
func (q *Queries) ListNotesInto(ctx context.Context, arg ListNotesParams, rows []ListNotesRow) ([]ListNotesRow, error) {
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
		return nil, err
	}
	defer res.Close()
	// One row to scan into and one list of its fields: Scan's arguments
	// escape, so a list made per row would be an allocation per row.
	var i ListNotesRow
	dest := []any{
		&i.ID,
		&i.AuthorID,
		&i.Title,
		&i.Body,
		&i.Tags,
		&i.Visibility,
		&i.Version,
		&i.CreatedAt,
		&i.UpdatedAt,
		&i.AuthorEmail,
		&i.AuthorDisplayName,
		&i.AuthorPlatformRole,
		&i.AuthorStatus,
		&i.AuthorCreatedAt,
	}
	for res.Next() {
		i = ListNotesRow{}
		if err := res.Scan(dest...); err != nil {
			return nil, err
		}
		rows = append(rows, i)
	}
	if err := res.Err(); err != nil {
		return nil, err
	}
	return rows, nil
}
