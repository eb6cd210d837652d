package store

import (
	"context"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Stats counts what the pool sent PostgreSQL: statements, and round trips
// (a batch is one round trip however many statements it carries). /metrics
// serves them, and the benchmark divides them by requests.
type Stats struct {
	statements atomic.Uint64
	roundTrips atomic.Uint64
}

// Statements returns how many statements the pool has sent.
func (s *Stats) Statements() uint64 { return s.statements.Load() }

// RoundTrips returns how many round trips the pool has made.
func (s *Stats) RoundTrips() uint64 { return s.roundTrips.Load() }

// Stats returns the pool's counters.
func (s *Store) Stats() *Stats { return s.stats }

// countingTracer counts into stats and passes every event on to next, if
// any (a test's tracer).
type countingTracer struct {
	stats *Stats
	next  pgx.QueryTracer
}

func (t countingTracer) TraceQueryStart(ctx context.Context, c *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	t.stats.statements.Add(1)
	t.stats.roundTrips.Add(1)
	if t.next != nil {
		return t.next.TraceQueryStart(ctx, c, d)
	}
	return ctx
}

func (t countingTracer) TraceQueryEnd(ctx context.Context, c *pgx.Conn, d pgx.TraceQueryEndData) {
	if t.next != nil {
		t.next.TraceQueryEnd(ctx, c, d)
	}
}

func (t countingTracer) TraceBatchStart(ctx context.Context, c *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	t.stats.roundTrips.Add(1)
	if b, ok := t.next.(pgx.BatchTracer); ok {
		return b.TraceBatchStart(ctx, c, d)
	}
	return ctx
}

func (t countingTracer) TraceBatchQuery(ctx context.Context, c *pgx.Conn, d pgx.TraceBatchQueryData) {
	t.stats.statements.Add(1)
	if b, ok := t.next.(pgx.BatchTracer); ok {
		b.TraceBatchQuery(ctx, c, d)
	}
}

func (t countingTracer) TraceBatchEnd(ctx context.Context, c *pgx.Conn, d pgx.TraceBatchEndData) {
	if b, ok := t.next.(pgx.BatchTracer); ok {
		b.TraceBatchEnd(ctx, c, d)
	}
}

// The pool asks its tracer for acquire events; pass them on too (the pool
// metrics of cmd/server time waits for a connection).
func (t countingTracer) TraceAcquireStart(ctx context.Context, p *pgxpool.Pool, d pgxpool.TraceAcquireStartData) context.Context {
	if a, ok := t.next.(pgxpool.AcquireTracer); ok {
		return a.TraceAcquireStart(ctx, p, d)
	}
	return ctx
}

func (t countingTracer) TraceAcquireEnd(ctx context.Context, p *pgxpool.Pool, d pgxpool.TraceAcquireEndData) {
	if a, ok := t.next.(pgxpool.AcquireTracer); ok {
		a.TraceAcquireEnd(ctx, p, d)
	}
}
