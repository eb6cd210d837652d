package live_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/quirehq/quire/internal/live"
	"github.com/quirehq/quire/internal/pgcluster"
	"github.com/quirehq/quire/internal/pgtest"
	"github.com/quirehq/quire/internal/qerr"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// newHub starts a hub on a fresh database and returns it with the app
// role's pool, for sending notifications.
func newHub(t testing.TB, limits live.Limits) (*live.Hub, *pgxpool.Pool) {
	t.Helper()
	db := pgtest.New(t)
	h := live.New(db.AppURL, limits, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := h.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h, db.App(t)
}

func notify(t testing.TB, pool *pgxpool.Pool, ev live.Event) {
	t.Helper()
	_, err := pool.Exec(t.Context(), `SELECT pg_notify($1, json_build_object('org_id', $2::uuid, 'note_id', $3::uuid, 'kind', $4::text)::text)`,
		live.Channel, ev.OrgID, ev.NoteID, ev.Kind)
	if err != nil {
		t.Fatal(err)
	}
}

func receive(t testing.TB, s *live.Subscription) live.Event {
	t.Helper()
	select {
	case ev := <-s.Events():
		return ev
	case <-s.Done():
		t.Fatalf("subscription ended: %v", s.Err())
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
	}
	return live.Event{}
}

func subscribe(t testing.TB, h *live.Hub, org, user uuid.UUID, conn *live.Connection) *live.Subscription {
	t.Helper()
	s, err := h.Subscribe(org, user, conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestHubDeliversToItsOrganizationOnly(t *testing.T) {
	t.Parallel()
	h, pool := newHub(t, live.Limits{})
	orgA, orgB := uuid.New(), uuid.New()
	a := subscribe(t, h, orgA, uuid.New(), nil)
	b := subscribe(t, h, orgB, uuid.New(), nil)
	forA := live.Event{OrgID: orgA, NoteID: uuid.New(), Kind: "CREATED"}
	forB := live.Event{OrgID: orgB, NoteID: uuid.New(), Kind: "UPDATED"}
	notify(t, pool, forA)
	notify(t, pool, forB)
	if got := receive(t, a); got != forA {
		t.Errorf("A got %+v, want %+v", got, forA)
	}
	// Notifications arrive in commit order, so B's first is B's own if A's
	// never reached it.
	if got := receive(t, b); got != forB {
		t.Errorf("B got %+v, want %+v", got, forB)
	}
}

// TestSlowSubscriberIsClosed: a subscriber that never reads is ended with
// RATE_LIMITED once its buffer overflows, and the others keep receiving.
func TestSlowSubscriberIsClosed(t *testing.T) {
	t.Parallel()
	h, pool := newHub(t, live.Limits{})
	org := uuid.New()
	slow := subscribe(t, h, org, uuid.New(), nil)
	fast := subscribe(t, h, org, uuid.New(), nil)
	for i := range live.Buffer + 10 {
		ev := live.Event{OrgID: org, NoteID: uuid.New(), Kind: "UPDATED"}
		notify(t, pool, ev)
		if got := receive(t, fast); got != ev {
			t.Fatalf("event %d: fast got %+v, want %+v", i, got, ev)
		}
	}
	select {
	case <-slow.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the slow subscriber is still open")
	}
	if err := slow.Err(); !qerr.Is(err, qerr.RateLimited) || !strings.Contains(err.Error(), "too slow: events overflowed") {
		t.Errorf("slow subscriber ended with %v, want RATE_LIMITED too slow", err)
	}
}

func TestSubscriptionLimits(t *testing.T) {
	t.Parallel()
	h, _ := newHub(t, live.Limits{PerConnection: 2, PerUser: 3})
	org, user := uuid.New(), uuid.New()
	c1, c2 := &live.Connection{}, &live.Connection{}
	subscribe(t, h, org, user, c1)
	s := subscribe(t, h, org, user, c1)
	if _, err := h.Subscribe(org, user, c1); !qerr.Is(err, qerr.RateLimited) {
		t.Errorf("third on one connection: %v, want RATE_LIMITED", err)
	}
	subscribe(t, h, org, user, c2)
	if _, err := h.Subscribe(org, user, c2); !qerr.Is(err, qerr.RateLimited) {
		t.Errorf("fourth for one user: %v, want RATE_LIMITED", err)
	}
	if _, err := h.Subscribe(org, uuid.New(), c2); err != nil {
		t.Errorf("another user on the connection: %v", err)
	}
	s.Close()
	if _, err := h.Subscribe(org, user, c1); err != nil {
		t.Errorf("after closing one: %v", err)
	}
}

// TestListenerReconnects: when the listening connection dies, the hub
// reconnects and delivers what is committed afterwards.
func TestListenerReconnects(t *testing.T) {
	t.Parallel()
	h, pool := newHub(t, live.Limits{})
	org := uuid.New()
	s := subscribe(t, h, org, uuid.New(), nil)
	var killed int
	err := pool.QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query = 'LISTEN `+live.Channel+`'`).Scan(&killed)
	if err != nil || killed != 1 {
		t.Fatalf("terminate the listener: %d terminated, %v", killed, err)
	}
	// Events committed while the hub is reconnecting are lost, so send one
	// every 50ms until one arrives.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		notify(t, pool, live.Event{OrgID: org, NoteID: uuid.New(), Kind: "CREATED"})
		select {
		case <-s.Events():
			return
		case <-tick.C:
		case <-ctx.Done():
			t.Fatal("no event after the listener was killed")
		}
	}
}

// TestListenerSurvivesRestart: PostgreSQL itself restarts (a fast
// shutdown, as an operator's pg_ctl restart -m fast or a failover makes);
// the hub reconnects on its own, and a subscription made before the
// restart receives what is committed after it, never having been ended.
// The cluster is this test's own: the run's shared one must stay up.
func TestListenerSurvivesRestart(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	// Under /tmp: every directory above the cluster must be enterable by
	// the postgres user when the tests run as root.
	dir, err := os.MkdirTemp("/tmp", "quire-live-restart-")
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := pgcluster.Open(ctx, pgcluster.Options{Dir: dir})
	if err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cluster.Stop(); err != nil {
			t.Error(err)
		}
		os.RemoveAll(dir)
	})
	urls, err := cluster.EnsureDev(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h := live.New(urls.App, live.Limits{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	org := uuid.New()
	s := subscribe(t, h, org, uuid.New(), nil)
	notifyOn := func(url string, ev live.Event) error {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			return err
		}
		defer conn.Close(context.WithoutCancel(ctx))
		_, err = conn.Exec(ctx, `SELECT pg_notify($1, json_build_object('org_id', $2::uuid, 'note_id', $3::uuid, 'kind', $4::text)::text)`,
			live.Channel, ev.OrgID, ev.NoteID, ev.Kind)
		return err
	}
	before := live.Event{OrgID: org, NoteID: uuid.New(), Kind: "CREATED"}
	if err := notifyOn(urls.App, before); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, s); got != before {
		t.Fatalf("before the restart got %+v, want %+v", got, before)
	}

	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	// Open starts the stopped cluster again, on its remembered port.
	if cluster, err = pgcluster.Open(ctx, pgcluster.Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}

	// Events committed before the hub has reconnected are lost, so send
	// one every 100ms until one arrives; the backoff is at most 5s.
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ev := live.Event{OrgID: org, NoteID: uuid.New(), Kind: "UPDATED"}
		if err := notifyOn(urls.App, ev); err != nil {
			t.Fatalf("notify after the restart: %v", err)
		}
		select {
		case got := <-s.Events():
			if got.OrgID != org || got.Kind != "UPDATED" {
				t.Fatalf("after the restart got %+v", got)
			}
			return
		case <-s.Done():
			t.Fatalf("the restart ended the subscription: %v", s.Err())
		case <-tick.C:
		case <-deadline:
			t.Fatal("no event within 20s of the restart: the listener did not reconnect")
		}
	}
}
