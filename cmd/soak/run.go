package main

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// run is the whole soak: serve, set up, load with a restart in the middle,
// check, shut down, report. An error means the soak could not run; a
// report with Failures means Quire broke a promise.
func run(ctx context.Context, o options) (*report, error) {
	rep := &report{Settings: settings{
		Duration: o.duration.String(), Concurrency: o.concurrency, Orgs: o.orgs,
		MembersPerOrg: 1 + o.editors + o.viewers, RequestTimeout: o.reqTimeout.String(),
	}}
	logf("start %s on a fresh embedded database", o.quire)
	s, err := startServer(ctx, o.quire, o.reqTimeout)
	defer func() { s.cleanup(o.keep || (rep != nil && len(rep.Failures) > 0)) }()
	if err != nil {
		if s != nil {
			logf("server log:\n%s", s.tailLog(30))
		}
		return nil, err
	}
	superURL, err := s.superuserURL(ctx)
	if err != nil {
		return nil, err
	}

	l := newLedger()
	setupTally := newTally()
	sc := newClient(s.url("/graphql"), 8, o.reqTimeout, setupTally)
	start := time.Now()
	tenants, err := setup(ctx, s, sc, l, o)
	if err != nil {
		logf("server log:\n%s", s.tailLog(30))
		return nil, fmt.Errorf("set-up: %w", err)
	}
	notes, _ := l.writes()
	logf("set up %d organizations × %d members, %d notes, in %.1fs (%d requests)",
		len(tenants), rep.Settings.MembersPerOrg, notes, time.Since(start).Seconds(), setupTally.requests)

	// Monitors run from here to the end, traffic or not.
	mctx, stopMonitors := context.WithCancel(ctx)
	defer stopMonitors()
	var monitors sync.WaitGroup
	ready, metrics := &readiness{}, &sampler{}
	monitors.Go(func() { ready.run(mctx, s, 25*time.Millisecond) })
	monitors.Go(func() { metrics.run(mctx, s, time.Second) })

	tally := newTally()
	c := newClient(s.url("/graphql"), o.concurrency, o.reqTimeout, tally)
	var shuttingDown atomic.Bool
	subCtx, stopSubs := context.WithCancel(ctx)
	defer stopSubs()
	subs := make([]*subscriber, len(tenants))
	for i, t := range tenants {
		subs[i] = newSubscriber(s.url(""), t, t.viewers[0], c, l, &shuttingDown)
		go subs[i].run(subCtx)
	}

	tr := &traffic{c: c, l: l, tenants: tenants}
	logf("traffic for %s at c=%d (warm-up %s)", o.duration, o.concurrency, o.warmup)
	trafficStart := time.Now()
	done := make(chan struct{})
	go func() { tr.run(ctx, o.concurrency); close(done) }()

	var out outage
	var restarted sync.WaitGroup
	if o.restartAt > 0 {
		restarted.Go(func() {
			select {
			case <-time.After(time.Duration(float64(o.duration) * o.restartAt)):
			case <-ctx.Done():
				return
			}
			logf("restart PostgreSQL: pg_ctl restart -m fast")
			out.begin = time.Now()
			out.err = s.restartPostgres(ctx)
			out.pgBack = time.Now()
			logf("pg_ctl restart returned after %.1fs (%v)", out.pgBack.Sub(out.begin).Seconds(), out.err)
		})
	}
	progress := time.NewTicker(max(o.duration/10, 5*time.Second))
	defer progress.Stop()
	end := time.After(o.duration)
	warm := time.After(o.warmup)
	var baseline quietSample
wait:
	for {
		select {
		case <-end:
			break wait
		case <-ctx.Done():
			tr.stop.Store(true)
			<-done
			return nil, ctx.Err()
		case <-warm:
			// The baseline is taken with nothing in flight, as the final
			// sample is: requests under way add goroutines of their own.
			resume := tr.pause()
			baseline, err = quiet(ctx, s)
			resume()
			if err != nil {
				return nil, err
			}
			logf("warm-up done: %.0f goroutines, %.1f MiB RSS", baseline.goroutines, baseline.rss/(1<<20))
		case <-progress.C:
			tally.mu.Lock()
			n, f := tally.requests, len(tally.failures)
			tally.mu.Unlock()
			logf("%3.0f%%: %d requests, %d failed", 100*time.Since(trafficStart).Seconds()/o.duration.Seconds(), n, f)
		}
	}
	tr.stop.Store(true)
	<-done
	trafficEnd := time.Now()
	restarted.Wait()
	stayedUp := s.running()
	logf("traffic done: %d requests in %.1fs", tally.requests, trafficEnd.Sub(trafficStart).Seconds())
	final, err := quiet(ctx, s)
	if err != nil {
		return nil, err
	}

	// The last word of every subscription: a note created now must reach
	// each organization's subscriber.
	finalNotes := finalEvents(ctx, c, l, tenants)
	subsOK := waitEvents(subs, finalNotes, 15*time.Second)

	stopMonitors()
	monitors.Wait()

	logf("verify the database as the superuser")
	v, err := verify(ctx, superURL, l)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}

	logf("shut the server down (SIGTERM)")
	shuttingDown.Store(true)
	exitedIn, exitErr := s.stop(45 * time.Second)
	closeCodes := map[string]int{}
	for _, sub := range subs {
		select {
		case <-sub.done:
		case <-time.After(10 * time.Second):
		}
		sub.mu.Lock()
		closeCodes[closeName(sub.final)]++
		sub.mu.Unlock()
	}
	stopSubs()

	rep.fill(o, l, tally, v, ready, metrics, &out, subs, subsOK, trafficStart, trafficEnd, s, stayedUp)
	rep.stable(o, baseline, final)
	rep.Shutdown = shutdownReport{ExitedInS: seconds(exitedIn), CloseCodes: closeCodes}
	if exitErr != nil {
		rep.Shutdown.Error = exitErr.Error()
		rep.fail("the server did not exit cleanly on SIGTERM: %v", exitErr)
	}
	if closeCodes[closeName(websocket.StatusGoingAway)] != len(subs) {
		rep.fail("on shutdown, subscribers' sockets closed with %v; want 1001 going away for all %d", closeCodes, len(subs))
	}
	if len(rep.Failures) > 0 {
		logf("server log (last 30 lines):\n%s", s.tailLog(30))
	}
	return rep, nil
}

func closeName(code websocket.StatusCode) string {
	if code < 0 {
		return "none"
	}
	return fmt.Sprintf("%d %s", int(code), strings.TrimPrefix(code.String(), "Status"))
}

// quietSample is the server at rest: goroutines (the fewest of three
// scrapes) and RSS (their mean).
type quietSample struct {
	goroutines, rss float64
}

// quiet samples the server once nothing is in flight: it waits a second
// for the server to finish what it answered (deferred work, pooled
// connections returning), then scrapes /metrics three times.
func quiet(ctx context.Context, s *server) (quietSample, error) {
	time.Sleep(time.Second)
	q := quietSample{goroutines: math.Inf(1)}
	for i := range 3 {
		smp, err := scrape(ctx, s)
		if err != nil {
			return q, fmt.Errorf("sample the server at rest: %w", err)
		}
		q.goroutines = min(q.goroutines, smp.goroutines)
		q.rss += smp.rss / 3
		if i < 2 {
			time.Sleep(200 * time.Millisecond)
		}
	}
	return q, nil
}

// outage is the PostgreSQL restart as the soak saw it.
type outage struct {
	begin, pgBack time.Time // pg_ctl restart ran between these
	err           error
}

// finalEvents has each organization's owner create one ORG note and
// returns their ids, by organization.
func finalEvents(ctx context.Context, c *client, l *ledger, tenants []*tenant) map[string]string {
	ids := map[string]string{}
	for _, t := range tenants {
		r := c.post(ctx, "createNote:final", t.owner.creds(ctx, c, t.id), createNoteOp, map[string]any{"in": newNoteInput(false)})
		var n noteOut
		if r.ok() && r.decode("createNote", &n) == nil {
			l.created(t.id, t.owner.id, n, r.end)
			ids[t.id] = n.ID
		}
	}
	return ids
}

// waitEvents waits until every subscriber has seen its organization's
// final note, and answers which did not within d.
func waitEvents(subs []*subscriber, final map[string]string, d time.Duration) map[string]bool {
	deadline := time.Now().Add(d)
	got := map[string]bool{}
	for {
		for _, s := range subs {
			if id, ok := final[s.t.id]; ok && s.saw(id) {
				got[s.t.id] = true
			}
		}
		if len(got) == len(subs) || time.Now().After(deadline) {
			return got
		}
		time.Sleep(50 * time.Millisecond) // polling the subscribers' state; each signals on its own channel
	}
}

func sortedKeys[M ~map[string]V, V any](m M) []string { return slices.Sorted(maps.Keys(m)) }
