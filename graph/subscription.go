package graph

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/authn"
	"github.com/quirehq/quire/internal/authz"
	"github.com/quirehq/quire/internal/live"
	"github.com/quirehq/quire/internal/note"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
)

// recheckEvery is how often a subscription re-authorises its subscriber
// when no event arrives, so a revocation ends it within 5 seconds.
const recheckEvery = 2 * time.Second

// noteEvents subscribes the principal @orgScoped put on ctx to its
// organization's note events. Each event is re-authorised before it is
// delivered: caller, then permissions (a fresh load, checked against the
// epochs), then the note as the subscriber may see it now (another
// member's PRIVATE note is skipped).
func (r *Resolver) noteEvents(ctx context.Context) (<-chan *note.Event, error) {
	p, err := authz.MustFromContext(ctx)
	if err != nil {
		return nil, err
	}
	if r.Live == nil || transport.GetInitPayload(ctx) == nil {
		return nil, qerr.New(qerr.BadUserInput,
			"subscribe over a websocket on /graphql with the graphql-transport-ws protocol (README, Live updates)")
	}
	sub, err := r.Live.Subscribe(uuid.UUID(p.OrgID), uuid.UUID(p.UserID), live.ConnectionFromContext(ctx))
	if err != nil {
		return nil, err
	}
	out := make(chan *note.Event)
	go r.deliver(ctx, p, sub, out)
	return out, nil
}

// deliver feeds out until the client completes, the hub ends sub, or the
// subscriber may no longer read notes; closing out ends the operation, and
// an error added before that reaches the client as a graphql-transport-ws
// "error" message.
func (r *Resolver) deliver(ctx context.Context, p policy.Principal, sub *live.Subscription, out chan<- *note.Event) {
	defer close(out)
	defer sub.Close()
	tick := time.NewTicker(recheckEvery)
	defer tick.Stop()
	for {
		var ev live.Event
		select {
		case <-ctx.Done():
			return
		case <-sub.Done():
			endWith(ctx, sub.Err())
			return
		case <-tick.C:
			if _, err := r.reauthorize(ctx, p); err != nil {
				endWith(ctx, err)
				return
			}
			continue
		case ev = <-sub.Events():
		}
		now, err := r.reauthorize(ctx, p)
		if err != nil {
			endWith(ctx, err)
			return
		}
		n, err := r.NoteService.Get(ctx, now, ev.NoteID)
		if qerr.Is(err, qerr.NotFound) {
			continue // not for this subscriber's eyes (PRIVATE), or already purged
		}
		if err != nil {
			endWith(ctx, err)
			return
		}
		select {
		case out <- &note.Event{Kind: ev.Kind, Note: n}:
		case <-ctx.Done():
			return
		case <-sub.Done():
			endWith(ctx, sub.Err())
			return
		}
	}
}

// reauthorize answers what the subscriber holds in the subscription's
// organization now, with a fresh memo: the operation's memo lives as long
// as the subscription. A signed-out session, a deactivated user or a dead
// API key is UNAUTHENTICATED; no longer a member, or without notes:read
// (role changed, module disabled) is FORBIDDEN.
func (r *Resolver) reauthorize(ctx context.Context, was policy.Principal) (policy.Principal, error) {
	ctx = authz.NewRequestContext(ctx)
	id, ok := authn.FromContext(ctx)
	if !ok {
		return policy.Principal{}, qerr.New(qerr.Unauthenticated, "sign in first")
	}
	if id.Kind == authn.KindAPIKey {
		// The key was checked once, at connection_init; check it again, so
		// a revoked or expired key stops here too.
		again, ok := ctx.Value(wsAuthKey{}).(func(context.Context) (authn.Identity, error))
		if !ok {
			return policy.Principal{}, qerr.New(qerr.Unauthenticated, "sign in first")
		}
		var err error
		if id, err = again(ctx); err != nil {
			return policy.Principal{}, err
		}
	}
	c, err := r.Authz.Caller(ctx, id)
	if err != nil {
		return policy.Principal{}, err
	}
	p, err := r.Authz.Principal(ctx, c, uuid.UUID(was.OrgID))
	if qerr.Is(err, qerr.NotFound) {
		return policy.Principal{}, qerr.Denied(policy.NotesRead.String(), "you are no longer a member of this organization")
	}
	if err != nil {
		return policy.Principal{}, err
	}
	if dec := policy.Can(p, policy.NotesRead, policy.InOrg(p.OrgID)); !dec.Allowed {
		return policy.Principal{}, qerr.Denied(dec.Permission.String(), dec.Reason)
	}
	return p, nil
}

// endWith has the websocket transport send err, through the error
// presenter, as the operation's last message. nil ends it quietly.
func endWith(ctx context.Context, err error) {
	// Once the client has completed the operation or gone, the transport
	// stops reading this operation's errors (and reads them concurrently):
	// there is no one to tell.
	if err == nil || ctx.Err() != nil {
		return
	}
	// AddError presents err (code, message, logging of INTERNAL) on the
	// operation's response context; the transport then sends it.
	graphql.AddError(ctx, err)
	errs := graphql.GetErrors(ctx)
	if len(errs) == 0 {
		return
	}
	transport.AddSubscriptionError(ctx, errs[len(errs)-1])
}

// wsAuthKey holds, for a websocket connection, a function that checks its
// connection_init credential again.
type wsAuthKey struct{}
