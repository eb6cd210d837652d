package graph

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/authn"
	"github.com/quirehq/quire/internal/httpserver"
	"github.com/quirehq/quire/internal/live"
	"github.com/quirehq/quire/internal/qerr"
)

// closeForbidden is the close code for a connection_init without a valid
// credential (API.md), as graphql-transport-ws uses it.
const closeForbidden = 4403

// closeGoingAway is the close code of a server going down (RFC 6455,
// 7.4.1): clients such as graphql-ws reconnect after it.
const closeGoingAway = 1001

// websocket is the graphql-transport-ws transport: credentials come in the
// connection_init payload, checked by the same authenticator as HTTP.
// Browsers may connect from the server's own origin and from
// QUIRE_CORS_ORIGINS.
func websocket(cfg HandlerConfig) transport.Websocket {
	return transport.Websocket{
		Implementation: closeOnShutdown{transport.CoderWebsocketImplementation{
			// An entry with "://" is matched against scheme://host, so
			// origins go in as QUIRE_CORS_ORIGINS spells them; "*" admits any.
			AcceptOptions: coderws.AcceptOptions{OriginPatterns: cfg.CORSOrigins},
		}},
		InitFunc:              initFunc(cfg),
		InitTimeout:           10 * time.Second,
		KeepAlivePingInterval: 25 * time.Second,
		PingPongInterval:      25 * time.Second,
	}
}

// closeOnShutdown closes each websocket with 1001 Going Away once the
// server starts shutting down (httpserver.ShuttingDown), so that clients
// learn to reconnect elsewhere instead of seeing the connection drop; the
// transport then ends the connection's operations, and the shutdown waits
// for the handlers to return.
type closeOnShutdown struct {
	transport.WebsocketImplementation
}

func (c closeOnShutdown) Accept(w http.ResponseWriter, r *http.Request, o transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	conn, err := c.WebsocketImplementation.Accept(w, r, o)
	if err != nil {
		return nil, err
	}
	if down := httpserver.ShuttingDown(r.Context()); down != nil {
		// The request's context ends when the handler returns, so this
		// goroutine does not outlive the connection.
		go func() {
			select {
			case <-down:
				// The first close wins; the transport's own later one is
				// then a no-op.
				_ = conn.WriteClose(closeGoingAway, "server shutting down")
			case <-r.Context().Done():
			}
		}()
	}
	// The connection itself is returned, not wrapped: the transport looks
	// for its read limit and read deadline methods.
	return conn, nil
}

// initFunc authenticates connection_init. Its payload keys are matched
// case-insensitively, as HTTP header names are. A missing or refused
// credential, or an organization id that is not a UUID, closes the socket
// with 4403.
func initFunc(cfg HandlerConfig) transport.WebsocketInitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		refuse := func(err error) (context.Context, *transport.InitPayload, error) {
			cfg.Logger.WarnContext(ctx, "authentication failed", "transport", "websocket", "reason", err.Error())
			return transport.WithWebsocketCloseCode(ctx, closeForbidden), nil, err
		}
		header := payloadString(payload, "Authorization")
		if header == "" || cfg.Authenticate == nil {
			return refuse(qerr.New(qerr.Unauthenticated, "connection_init needs Authorization: Bearer <token>"))
		}
		id, err := cfg.Authenticate(ctx, header)
		if err != nil {
			return refuse(err)
		}
		ctx = authn.NewContext(ctx, id)
		if v := payloadString(payload, "X-Organization-Id"); v != "" {
			org, err := uuid.Parse(v)
			if err != nil {
				return refuse(qerr.New(qerr.BadUserInput, "X-Organization-Id must be a UUID"))
			}
			ctx = authn.WithRequestedOrg(ctx, org)
		}
		ctx = context.WithValue(ctx, wsAuthKey{}, func(ctx context.Context) (authn.Identity, error) {
			return cfg.Authenticate(ctx, header)
		})
		return live.NewConnectionContext(ctx), nil, nil
	}
}

// payloadString returns the string under key in p, matching keys without
// regard to case.
func payloadString(p transport.InitPayload, key string) string {
	for k, v := range p {
		if s, ok := v.(string); ok && strings.EqualFold(k, key) {
			return s
		}
	}
	return ""
}
