package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"
)

type report struct {
	Settings      settings                  `json:"settings"`
	Requests      int                       `json:"requests"`
	RequestsPerS  float64                   `json:"requests_per_second"`
	ByOperation   map[string]int            `json:"requests_by_operation"`
	ErrorsByCode  map[string]int            `json:"errors_by_code"`
	Assertions    map[string]map[string]int `json:"expected_refusals_by_operation"`
	LongestS      float64                   `json:"longest_request_seconds"`
	Slowest       string                    `json:"longest_request"`
	NotesChecked  int                       `json:"notes_checked_in_answers"`
	Verification  *verification             `json:"verification"`
	Stability     stability                 `json:"stability"`
	Outage        *outageReport             `json:"outage,omitempty"`
	Subscriptions subscriptionReport        `json:"subscriptions"`
	Shutdown      shutdownReport            `json:"shutdown"`
	Failures      []string                  `json:"failures"`
}

type settings struct {
	Duration       string `json:"duration"`
	Concurrency    int    `json:"concurrency"`
	Orgs           int    `json:"orgs"`
	MembersPerOrg  int    `json:"members_per_org"`
	RequestTimeout string `json:"request_timeout"`
}

type stability struct {
	GoroutinesStart    float64 `json:"goroutines_start"`
	GoroutinesEnd      float64 `json:"goroutines_end"`
	RSSStartMiB        float64 `json:"rss_start_mib"`
	RSSEndMiB          float64 `json:"rss_end_mib"`
	GoroutinesPeak     float64 `json:"goroutines_peak_under_load"`
	RSSPeakMiB         float64 `json:"rss_peak_under_load_mib"`
	GoroutineGrowth    float64 `json:"goroutine_growth"`
	RSSGrowth          float64 `json:"rss_growth"`
	PoolAcquireMaxS    float64 `json:"pool_acquire_max_seconds"`
	PoolAcquires       float64 `json:"pool_acquires"`
	PoolAcquiresOver1s float64 `json:"pool_acquires_over_1s"`
}

type outageReport struct {
	AtS             float64        `json:"at_seconds"`
	PgCtlS          float64        `json:"pg_ctl_restart_seconds"`
	ReadyzDownS     float64        `json:"readyz_not_ready_seconds"`
	ReadyzStatuses  map[int]int    `json:"readyz_statuses_during"`
	FailedRequests  int            `json:"failed_requests"`
	FailedByCode    map[string]int `json:"failed_by_code"`
	LongestFailedS  float64        `json:"longest_failed_request_seconds"`
	LongestFailedOp string         `json:"longest_failed_request"`
	RequestsDuring  int            `json:"requests_during"`
	ServerStayedUp  bool           `json:"server_stayed_up"`
}

type subscriptionReport struct {
	Subscribers       int            `json:"subscribers"`
	Events            int            `json:"events"`
	EventsAfterOutage int            `json:"events_after_outage"`
	EndedByCode       map[string]int `json:"operations_ended_by_code"`
	SocketsDropped    int            `json:"sockets_dropped_before_shutdown"`
	FinalDelivered    int            `json:"final_events_delivered"`
}

type shutdownReport struct {
	ExitedInS  float64        `json:"exited_in_seconds"`
	CloseCodes map[string]int `json:"websocket_close_codes"`
	Error      string         `json:"error,omitempty"`
}

func (r *report) fail(format string, args ...any) {
	r.Failures = append(r.Failures, fmt.Sprintf(format, args...))
}

// stable compares the server at rest after the warm-up with the server at
// rest after the traffic.
func (r *report) stable(o options, base, end quietSample) {
	st := &r.Stability
	st.GoroutinesStart, st.GoroutinesEnd = base.goroutines, end.goroutines
	st.RSSStartMiB, st.RSSEndMiB = base.rss/(1<<20), end.rss/(1<<20)
	if base.goroutines == 0 || base.rss == 0 {
		r.fail("no baseline sample after the warm-up")
		return
	}
	st.GoroutineGrowth, st.RSSGrowth = end.goroutines/base.goroutines-1, end.rss/base.rss-1
	if st.GoroutineGrowth > o.maxGrowth {
		r.fail("goroutines grew %.0f%% after the warm-up (%.0f → %.0f), over %.0f%%",
			100*st.GoroutineGrowth, base.goroutines, end.goroutines, 100*o.maxGrowth)
	}
	if st.RSSGrowth > o.maxGrowth {
		r.fail("RSS grew %.0f%% after the warm-up (%.1f → %.1f MiB), over %.0f%%",
			100*st.RSSGrowth, st.RSSStartMiB, st.RSSEndMiB, 100*o.maxGrowth)
	}
}

// fill computes the figures and records every broken promise.
func (r *report) fill(o options, l *ledger, t *tally, v *verification, ready *readiness, m *sampler, out *outage,
	subs []*subscriber, finalGot map[string]bool, trafficStart, trafficEnd time.Time, s *server, stayedUp bool) {
	took := trafficEnd.Sub(trafficStart)
	t.mu.Lock()
	defer t.mu.Unlock()
	r.Requests, r.ByOperation, r.ErrorsByCode, r.Assertions = t.requests, t.byOp, t.byCode, t.expected
	r.RequestsPerS = float64(t.requests) / took.Seconds()
	r.LongestS, r.Slowest = seconds(t.longest), t.slowest
	l.mu.Lock()
	r.NotesChecked = l.reads
	for _, msg := range l.violations {
		r.fail("%s", msg)
	}
	if l.nViolation > len(l.violations) {
		r.fail("… and %d more broken promises in answers", l.nViolation-len(l.violations))
	}
	l.mu.Unlock()

	r.Verification = v
	for _, p := range v.problems {
		r.fail("database: %s", p)
	}
	if v.problemCount > len(v.problems) {
		r.fail("database: … and %d more", v.problemCount-len(v.problems))
	}
	if v.WritesVerified != v.WritesAcked {
		r.fail("%d of %d acknowledged writes verified in the database", v.WritesVerified, v.WritesAcked)
	}

	// The outage window: from pg_ctl restart until /readyz said 200 again,
	// plus a grace for pooled connections the restart killed, each of
	// which fails the one request that next uses it.
	var windowFrom, windowTo time.Time
	if !out.begin.IsZero() {
		or := &outageReport{AtS: seconds(out.begin.Sub(trafficStart)), PgCtlS: seconds(out.pgBack.Sub(out.begin)),
			FailedByCode: map[string]int{}, ServerStayedUp: stayedUp}
		r.Outage = or
		if out.err != nil {
			r.fail("restart PostgreSQL: %v", out.err)
		}
		down, up, statuses, ok := ready.outage(out.begin)
		or.ReadyzStatuses = statuses
		windowFrom, windowTo = out.begin, out.pgBack.Add(o.grace)
		if !ok {
			r.fail("/readyz never answered anything but 200 during the PostgreSQL restart (or never 200 again)")
		} else {
			or.ReadyzDownS = seconds(up.Sub(down))
			windowTo = up.Add(o.grace)
			for status, n := range statuses {
				if status != http.StatusServiceUnavailable {
					r.fail("/readyz answered %d (%d times) during the outage; want 503 (0: no answer within 3s)", status, n)
				}
			}
		}
		if n := ready.notReady(trafficStart, out.begin); n > 0 {
			r.fail("/readyz answered other than 200 %d times before the restart", n)
		}
		if n := ready.notReady(windowTo, trafficEnd); n > 0 {
			r.fail("/readyz answered other than 200 %d times after the outage", n)
		}
		if !or.ServerStayedUp {
			r.fail("the server exited during the soak: %v", s.exitErr)
		}
	} else if n := ready.notReady(trafficStart, trafficEnd); n > 0 {
		r.fail("/readyz answered other than 200 %d times", n)
	}

	outside := map[string]int{}
	var examples []string
	for _, f := range t.failures {
		during := !windowFrom.IsZero() && !f.end.Before(windowFrom) && !f.start.After(windowTo)
		if during {
			r.Outage.FailedRequests++
			r.Outage.FailedByCode[f.code]++
			if seconds(f.took()) > r.Outage.LongestFailedS {
				r.Outage.LongestFailedS = seconds(f.took())
				r.Outage.LongestFailedOp = f.op + " " + f.code
			}
			clean := f.code == "INTERNAL" || strings.HasPrefix(f.code, "HTTP_5")
			if !clean {
				r.fail("during the outage %s failed with %s (%s): want INTERNAL or a 503-class answer", f.op, f.code, f.detail)
			}
			if f.took() > o.reqTimeout+2*time.Second {
				r.fail("during the outage %s took %.1fs to fail, past the %s request deadline", f.op, f.took().Seconds(), o.reqTimeout)
			}
			continue
		}
		outside[f.code]++
		if len(examples) < 10 {
			examples = append(examples, fmt.Sprintf("%s %s after %.1fs: %s", f.op, f.code, seconds(f.start.Sub(trafficStart)), f.detail))
		}
	}
	if len(outside) > 0 {
		r.fail("requests failed outside the outage: %v; e.g. %s", outside, strings.Join(examples, "; "))
	}
	if r.Outage != nil {
		r.Outage.RequestsDuring = t.between(windowFrom, windowTo)
	}

	g, rss := m.peak()
	r.Stability.GoroutinesPeak, r.Stability.RSSPeakMiB = g, rss/(1<<20)
	if last, ok := m.last(); ok {
		r.Stability.PoolAcquireMaxS = last.acquireMax
		r.Stability.PoolAcquires = last.acquire["quire_db_pool_acquire_seconds_count"]
		r.Stability.PoolAcquiresOver1s = r.Stability.PoolAcquires - last.acquire[`quire_db_pool_acquire_seconds_bucket{le="1"}`]
		if last.acquireMax > o.reqTimeout.Seconds() {
			r.fail("a pool connection took %.1fs to get, past the %s request deadline", last.acquireMax, o.reqTimeout)
		}
	}

	// Subscriptions.
	sr := subscriptionReport{Subscribers: len(subs), EndedByCode: map[string]int{}}
	recovered := windowTo
	for _, sub := range subs {
		sub.mu.Lock()
		sr.Events += len(sub.events)
		for _, e := range sub.ends {
			sr.EndedByCode[e.code]++
			during := !windowFrom.IsZero() && !e.at.Before(windowFrom) && !e.at.After(windowTo)
			if !during {
				r.fail("the server ended %s's subscription with %s at %.1fs, outside the outage", sub.t.name, e.code, seconds(e.at.Sub(trafficStart)))
			}
		}
		for _, c := range sub.closes {
			sr.SocketsDropped++
			r.fail("%s's subscriber socket closed at %.1fs (%s, %s) before the shutdown", sub.t.name,
				seconds(c.at.Sub(trafficStart)), closeName(c.status), c.err)
		}
		sub.mu.Unlock()
		if !recovered.IsZero() {
			sr.EventsAfterOutage += sub.eventsAfter(recovered)
		}
		if finalGot[sub.t.id] {
			sr.FinalDelivered++
		} else {
			r.fail("%s's subscriber did not receive the note created after the traffic within 15s", sub.t.name)
		}
	}
	r.Subscriptions = sr
}

func (r *report) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func (r *report) print(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	s := r.Settings
	p("== Quire soak: %s at c=%d, %d organizations × %d members, request deadline %s", s.Duration, s.Concurrency, s.Orgs, s.MembersPerOrg, s.RequestTimeout)
	p("requests served: %d (%.0f/s); longest %.2fs (%s); notes checked in answers: %d", r.Requests, r.RequestsPerS, r.LongestS, r.Slowest, r.NotesChecked)
	p("by operation: %s", joinCounts(r.ByOperation))
	p("errors by code: %s", joinCounts(r.ErrorsByCode))
	for _, op := range sortedKeys(r.Assertions) {
		p("  expected on %s: %s", op, joinCounts(r.Assertions[op]))
	}
	if v := r.Verification; v != nil {
		p("writes verified in the database: %d of %d acknowledged (%d notes; %d at their newest acknowledged version); %d notes shown to callers checked",
			v.WritesVerified, v.WritesAcked, v.NotesAcked, v.LatestVerified, v.SightingsVerified)
		p("  unanswered writes that committed: %d updates, %d creates", v.CommittedUnacked, v.UnknownNotes)
	}
	st := r.Stability
	p("goroutines (at rest): %.0f after warm-up → %.0f at the end (%+.1f%%); peak under load %.0f",
		st.GoroutinesStart, st.GoroutinesEnd, 100*st.GoroutineGrowth, st.GoroutinesPeak)
	p("RSS (at rest): %.1f MiB after warm-up → %.1f MiB at the end (%+.1f%%); peak under load %.1f MiB",
		st.RSSStartMiB, st.RSSEndMiB, 100*st.RSSGrowth, st.RSSPeakMiB)
	p("pool: %.0f acquires, longest %.3fs, %.0f over 1s", st.PoolAcquires, st.PoolAcquireMaxS, st.PoolAcquiresOver1s)
	if o := r.Outage; o != nil {
		p("PostgreSQL restart at %.1fs: pg_ctl took %.1fs; /readyz not ready for %.2fs %v; server stayed up: %v",
			o.AtS, o.PgCtlS, o.ReadyzDownS, o.ReadyzStatuses, o.ServerStayedUp)
		p("  failed requests during the outage: %d of %d (%s); slowest failure %.2fs (%s)",
			o.FailedRequests, o.RequestsDuring, joinCounts(o.FailedByCode), o.LongestFailedS, o.LongestFailedOp)
	}
	sr := r.Subscriptions
	p("subscriptions: %d subscribers, %d events (%d after the outage), ended %s, sockets dropped %d, final event delivered to %d/%d",
		sr.Subscribers, sr.Events, sr.EventsAfterOutage, joinCounts(sr.EndedByCode), sr.SocketsDropped, sr.FinalDelivered, sr.Subscribers)
	p("shutdown: exited in %.1fs; websocket close codes %s %s", r.Shutdown.ExitedInS, joinCounts(r.Shutdown.CloseCodes), r.Shutdown.Error)
	if len(r.Failures) > 0 {
		p("FAILURES:")
		for _, f := range r.Failures {
			p("  - %s", f)
		}
	}
}

func joinCounts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
