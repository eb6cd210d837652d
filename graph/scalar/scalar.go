// Package scalar maps GraphQL's ID to uuid.UUID, so a malformed id is a
// BAD_USER_INPUT naming the problem rather than an internal error.
package scalar

import (
	"io"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/qerr"
)

// MarshalID writes an id.
func MarshalID(id uuid.UUID) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(id.String()))
	})
}

// UnmarshalID reads an id: a UUID in its canonical text form.
func UnmarshalID(v any) (uuid.UUID, error) {
	s, ok := v.(string)
	if !ok || len(s) != 36 {
		return uuid.Nil, qerr.Invalid("id", "an ID must be a UUID such as 0190a6e4-5e46-7c4e-8d6b-9f1e2a3b4c5d")
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, qerr.Invalid("id", "an ID must be a UUID such as 0190a6e4-5e46-7c4e-8d6b-9f1e2a3b4c5d")
	}
	return id, nil
}
