// Command soak proves that Quire keeps its promises under load and when
// PostgreSQL goes away: it serves bin/quire on a fresh embedded database,
// signs in the members of many organizations through the API, and drives
// mixed traffic at a fixed concurrency for a set time — 70 % reads, 20 %
// note writes with expectedVersion, 10 % member, role and key changes —
// while it restarts PostgreSQL in the middle (pg_ctl restart -m fast).
//
// It fails (exit 1) unless:
//   - no request failed but the expected CONFLICTs, save INTERNAL or
//     503-class answers while PostgreSQL was down, each within the request
//     deadline; none hung, none lost its connection;
//   - every write the server acknowledged is in the database exactly as
//     acknowledged (read as the superuser after the run), and no read ever
//     returned an older version of a note than one already acknowledged;
//   - no response (list, single note, subscription event) held a note of
//     another organization, or another member's PRIVATE note;
//   - /readyz answered 503 during the outage and 200 before and after it;
//     the server kept running and answered again without a restart;
//   - subscriptions delivered again after the outage;
//   - RSS and goroutines grew less than 10 % between the end of the warm-up
//     and the end of the run, and no wait for a pool connection outlasted the
//     request deadline;
//   - on SIGTERM the server closed every websocket with 1001 and exited 0.
//
// Run it as `make soak` (10 minutes; SOAK_DURATION=30m to change) or
//
//	go build -o bin/quire ./cmd/server && go run ./cmd/soak --duration 60s
//
// It prints the figures (requests, writes verified, errors by code, RSS and
// goroutines at start and end, the outage and what failed during it) and,
// with --json, writes them to a file.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

type options struct {
	quire       string
	duration    time.Duration
	concurrency int
	orgs        int
	editors     int
	viewers     int
	notes       int
	warmup      time.Duration
	restartAt   float64
	grace       time.Duration
	maxGrowth   float64
	reqTimeout  time.Duration
	jsonOut     string
	keep        bool
}

func main() {
	var o options
	flag.StringVar(&o.quire, "quire", "bin/quire", "the quire binary to serve")
	flag.DurationVar(&o.duration, "duration", 10*time.Minute, "how long the mixed traffic runs")
	flag.IntVar(&o.concurrency, "c", 64, "concurrent clients")
	flag.IntVar(&o.orgs, "orgs", 16, "organizations (tenants)")
	flag.IntVar(&o.editors, "editors", 2, "editors per organization, beside its owner")
	flag.IntVar(&o.viewers, "viewers", 1, "viewers per organization (one subscribes to note events)")
	flag.IntVar(&o.notes, "notes", 10, "notes each writer creates before the traffic starts")
	flag.DurationVar(&o.warmup, "warmup", 0, "warm-up before the stability baseline (default: a quarter of --duration, at most 2m)")
	flag.Float64Var(&o.restartAt, "restart-at", 0.5, "when to restart PostgreSQL, as a fraction of --duration; 0 never")
	flag.DurationVar(&o.grace, "grace", 5*time.Second, "after /readyz answers 200 again, how long failures still count as the outage's")
	flag.Float64Var(&o.maxGrowth, "max-growth", 0.10, "largest RSS or goroutine growth allowed after the warm-up")
	flag.DurationVar(&o.reqTimeout, "request-timeout", 10*time.Second, "the server's QUIRE_REQUEST_TIMEOUT")
	flag.StringVar(&o.jsonOut, "json", "", "also write the report as JSON to `FILE`")
	flag.BoolVar(&o.keep, "keep", false, "keep the data directory (database, server log, mail)")
	flag.Parse()
	if o.warmup == 0 {
		o.warmup = min(o.duration/4, 2*time.Minute)
	}
	if flag.NArg() > 0 || o.duration <= 0 || o.concurrency < 1 || o.orgs < 2 || o.editors < 1 || o.viewers < 1 ||
		o.restartAt < 0 || o.restartAt >= 1 || o.warmup >= o.duration {
		fmt.Fprintln(os.Stderr, "usage: soak [--duration D] [-c N] [--orgs N] [--restart-at F] ...; --orgs ≥ 2, --editors and --viewers ≥ 1, --warmup < --duration")
		flag.PrintDefaults()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, o)
	if rep != nil {
		rep.print(os.Stdout)
		if o.jsonOut != "" {
			if werr := rep.writeJSON(o.jsonOut); werr != nil {
				fmt.Fprintln(os.Stderr, "soak:", werr)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
	if len(rep.Failures) > 0 {
		fmt.Fprintf(os.Stderr, "soak: FAILED (%d checks)\n", len(rep.Failures))
		os.Exit(1)
	}
	fmt.Println("soak: PASSED")
}

// logf reports progress on stderr, so stdout holds only the report.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[soak %s] %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
}
