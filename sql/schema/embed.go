// Package schema embeds the goose migrations, which are also sqlc's schema.
package schema

import "embed"

// FS holds the migrations, applied in lexical order of their names.
//
//go:embed *.sql
var FS embed.FS
