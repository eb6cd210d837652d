// Package graph is Quire's GraphQL layer: the schema (schema/*.graphqls),
// thin resolvers that parse, call one service method and map, the access
// directives, and the one error presenter.
package graph

import (
	"github.com/quirehq/quire/internal/account"
	"github.com/quirehq/quire/internal/apikey"
	"github.com/quirehq/quire/internal/authz"
	"github.com/quirehq/quire/internal/invite"
	"github.com/quirehq/quire/internal/live"
	"github.com/quirehq/quire/internal/note"
	"github.com/quirehq/quire/internal/org"
)

// Resolver holds the services resolvers call.
type Resolver struct {
	Accounts    *account.Service
	Orgs        *org.Service
	NoteService *note.Service
	Authz       *authz.Service
	Invites     *invite.Service
	KeyService  *apikey.Service
	// Live fans note events out to noteEvents subscribers.
	Live *live.Hub
}
