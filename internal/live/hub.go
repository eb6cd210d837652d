// Package live fans note events out to subscribers. Each server process
// keeps one PostgreSQL connection listening on the quire_note_events
// channel (never one per subscriber); services send the notification in
// the transaction that makes the change, so a rolled-back change sends
// nothing. Notifications carry ids only: whoever delivers an event loads
// the note as its subscriber, with that subscriber's current permissions.
package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/quirehq/quire/internal/qerr"
)

// Channel is the PostgreSQL notification channel of note events; the
// NotifyNoteEvent query sends on it.
const Channel = "quire_note_events"

// Buffer is how many events a subscriber may fall behind before it is
// closed as too slow.
const Buffer = 64

// Event is one notification: which note of which organization changed, and
// how (CREATED, UPDATED, DELETED, RESTORED).
type Event struct {
	OrgID  uuid.UUID `json:"org_id"`
	NoteID uuid.UUID `json:"note_id"`
	Kind   string    `json:"kind"`
}

// Limits caps concurrent subscriptions; 0 means no limit.
type Limits struct {
	PerConnection int
	PerUser       int
}

// Hub holds the listening connection and the subscribers of this process.
type Hub struct {
	url    string
	logger *slog.Logger
	limits Limits

	mu      sync.Mutex
	subs    map[uuid.UUID]map[*Subscription]bool // by organization
	perUser map[uuid.UUID]int
	perConn map[*Connection]int
	changed chan struct{} // closed and replaced whenever subs changes

	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a hub that will listen on the database at url (the app
// role's); Start starts it.
func New(url string, limits Limits, logger *slog.Logger) *Hub {
	return &Hub{
		url: url, logger: logger, limits: limits,
		subs: map[uuid.UUID]map[*Subscription]bool{}, perUser: map[uuid.UUID]int{},
		perConn: map[*Connection]int{}, changed: make(chan struct{}),
	}
}

// Start opens the listening connection and returns once LISTEN is in
// effect, so a change committed after Start returns reaches subscribers;
// then it keeps listening in the background, reconnecting with backoff if
// the connection drops, until Close.
func (h *Hub) Start(ctx context.Context) error {
	conn, err := h.listen(ctx)
	if err != nil {
		return err
	}
	ctx, h.cancel = context.WithCancel(context.WithoutCancel(ctx))
	h.done = make(chan struct{})
	go h.run(ctx, conn)
	return nil
}

// Close stops listening and ends every subscription without an error.
func (h *Hub) Close() {
	if h.cancel != nil {
		h.cancel()
		<-h.done
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, set := range h.subs {
		for s := range set {
			s.end(nil)
		}
	}
}

// The listener's own deadlines. Connecting (and LISTEN) is bounded, so a
// database that accepts connections but does not answer cannot stall the
// reconnect loop. A listener that has heard nothing for checkEvery pings
// the database, bounded by pingTimeout: a connection that died without a
// word (a network partition, a server killed hard) is then noticed and
// replaced instead of waiting for notifications that never come.
const (
	connectTimeout = 10 * time.Second
	checkEvery     = 30 * time.Second
	pingTimeout    = 5 * time.Second
)

func (h *Hub) listen(ctx context.Context) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, h.url)
	if err != nil {
		return nil, fmt.Errorf("connect listener: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("listen on %s: %w", Channel, err)
	}
	return conn, nil
}

// wait returns the next notification, or an error once the connection is
// no longer usable. A quiet spell of checkEvery is not an error if the
// database still answers a ping.
func wait(ctx context.Context, conn *pgx.Conn) (*pgconn.Notification, error) {
	for {
		wctx, cancel := context.WithTimeout(ctx, checkEvery)
		n, err := conn.WaitForNotification(wctx)
		quiet := errors.Is(wctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
		cancel()
		if err == nil || !quiet {
			return n, err
		}
		// A read cut by its deadline leaves the connection usable.
		pctx, cancel := context.WithTimeout(ctx, pingTimeout)
		err = conn.Ping(pctx)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("ping after %s without notifications: %w", checkEvery, err)
		}
	}
}

// run receives notifications until ctx ends, reconnecting with backoff
// (100 ms doubling to 5 s) whenever the connection is lost: a PostgreSQL
// restart, a failover, a terminated backend. Events committed while the
// connection is down are lost: PostgreSQL queues notifications only for
// sessions that were listening.
func (h *Hub) run(ctx context.Context, conn *pgx.Conn) {
	defer close(h.done)
	const maxBackoff = 5 * time.Second
	backoff := 100 * time.Millisecond
	for {
		if conn == nil {
			var err error
			if conn, err = h.listen(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				h.logger.Warn("live listener reconnect failed", "err", err, "retry_in", backoff.String())
				t := time.NewTimer(backoff)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
				backoff = min(2*backoff, maxBackoff)
				continue
			}
			h.logger.Info("live listener reconnected")
			backoff = 100 * time.Millisecond
		}
		n, err := wait(ctx, conn)
		if err != nil {
			closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			_ = conn.Close(closeCtx)
			cancel()
			conn = nil
			if ctx.Err() != nil {
				return
			}
			h.logger.Warn("live listener lost its connection", "err", err)
			continue
		}
		var ev Event
		if err := json.Unmarshal([]byte(n.Payload), &ev); err != nil {
			h.logger.Error("live listener got a bad payload", "err", err)
			continue
		}
		h.publish(ev)
	}
}

// publish hands ev to every subscriber of its organization without
// waiting: one whose buffer is full is ended as too slow.
func (h *Hub) publish(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs[ev.OrgID] {
		select {
		case s.c <- ev:
		default:
			h.removeLocked(s)
			s.end(errTooSlow)
		}
	}
}

var errTooSlow = qerr.New(qerr.RateLimited,
	"too slow: events overflowed (more than %d undelivered); subscribe again and reload", Buffer)

// Connection identifies one client connection (a websocket) for the
// per-connection limit.
type Connection struct{ _ byte }

type connKey struct{}

// NewConnectionContext returns ctx carrying a new Connection: call it once
// per client connection.
func NewConnectionContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, connKey{}, &Connection{})
}

// ConnectionFromContext returns the connection NewConnectionContext put on
// ctx, or nil.
func ConnectionFromContext(ctx context.Context) *Connection {
	c, _ := ctx.Value(connKey{}).(*Connection)
	return c
}

// Subscribe registers a subscriber to the events of org. It answers
// RATE_LIMITED when the connection or the user already holds as many
// subscriptions as the limits allow. conn may be nil (no per-connection
// limit applies).
func (h *Hub) Subscribe(org, user uuid.UUID, conn *Connection) (*Subscription, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if l := h.limits.PerConnection; l > 0 && conn != nil && h.perConn[conn] >= l {
		return nil, qerr.New(qerr.RateLimited,
			"too many subscriptions on this connection (at most %d): complete one first", l)
	}
	if l := h.limits.PerUser; l > 0 && h.perUser[user] >= l {
		return nil, qerr.New(qerr.RateLimited,
			"too many subscriptions for this user (at most %d): complete one first", l)
	}
	s := &Subscription{hub: h, org: org, user: user, conn: conn,
		c: make(chan Event, Buffer), done: make(chan struct{})}
	if h.subs[org] == nil {
		h.subs[org] = map[*Subscription]bool{}
	}
	h.subs[org][s] = true
	h.perUser[user]++
	if conn != nil {
		h.perConn[conn]++
	}
	h.changedLocked()
	return s, nil
}

func (h *Hub) removeLocked(s *Subscription) {
	if !h.subs[s.org][s] {
		return
	}
	delete(h.subs[s.org], s)
	if len(h.subs[s.org]) == 0 {
		delete(h.subs, s.org)
	}
	if h.perUser[s.user]--; h.perUser[s.user] == 0 {
		delete(h.perUser, s.user)
	}
	if s.conn != nil {
		if h.perConn[s.conn]--; h.perConn[s.conn] == 0 {
			delete(h.perConn, s.conn)
		}
	}
	h.changedLocked()
}

func (h *Hub) changedLocked() {
	close(h.changed)
	h.changed = make(chan struct{})
}

// WaitSubscribers blocks until org has at least n subscribers in this
// process, or ctx ends. Tests use it to know a subscription is in place
// before they change a note.
func (h *Hub) WaitSubscribers(ctx context.Context, org uuid.UUID, n int) error {
	for {
		h.mu.Lock()
		have, changed := len(h.subs[org]), h.changed
		h.mu.Unlock()
		if have >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %d subscribers of %s (have %d): %w", n, org, have, ctx.Err())
		case <-changed:
		}
	}
}

// Subscription is one subscriber's feed.
type Subscription struct {
	hub  *Hub
	org  uuid.UUID
	user uuid.UUID
	conn *Connection
	c    chan Event

	once sync.Once
	done chan struct{}
	err  error
}

// Events delivers the organization's events, in commit order.
func (s *Subscription) Events() <-chan Event { return s.c }

// Done is closed when the hub ended the subscription; Err says why.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Err is why the hub ended the subscription: RATE_LIMITED when it fell
// too far behind, nil when the hub closed.
func (s *Subscription) Err() error {
	<-s.done
	return s.err
}

func (s *Subscription) end(err error) {
	s.once.Do(func() {
		s.err = err
		close(s.done)
	})
}

// Close unsubscribes; it is safe to call more than once.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	s.hub.removeLocked(s)
	s.hub.mu.Unlock()
	s.end(errClosed)
}

var errClosed = errors.New("subscription closed")
