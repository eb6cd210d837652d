package main

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// poolMetrics watches the app's connection pool: how long each Acquire
// took (the wait when every connection is busy, or the dial of a new one)
// and the pool's own counts. A request's Acquire runs under the request's
// deadline, so no wait can outlast it; the maximum shows how close the pool
// came. It is the pool's tracer, and hands statements on to next (a test's
// tracer) when set.
type poolMetrics struct {
	next pgx.QueryTracer

	acquire  prometheus.Histogram
	failed   prometheus.Counter
	maxWait  atomic.Int64 // nanoseconds
	pool     atomic.Pointer[pgxpool.Pool]
	maxDesc  *prometheus.Desc
	connDesc *prometheus.Desc
	sizeDesc *prometheus.Desc
	waitDesc *prometheus.Desc
}

var (
	_ pgx.QueryTracer       = (*poolMetrics)(nil)
	_ pgx.BatchTracer       = (*poolMetrics)(nil)
	_ pgxpool.AcquireTracer = (*poolMetrics)(nil)
	_ prometheus.Collector  = (*poolMetrics)(nil)
)

func newPoolMetrics(next pgx.QueryTracer) *poolMetrics {
	return &poolMetrics{
		next: next,
		acquire: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "quire_db_pool_acquire_seconds",
			Help:    "How long taking a connection from the app pool took, waits and new connections included.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "quire_db_pool_acquire_errors_total",
			Help: "Connections the app pool could not hand out: deadline reached or database unreachable.",
		}),
		maxDesc: prometheus.NewDesc("quire_db_pool_acquire_max_seconds",
			"The longest a connection from the app pool took to get since the server started.", nil, nil),
		connDesc: prometheus.NewDesc("quire_db_pool_connections",
			"The app pool's connections by state.", []string{"state"}, nil),
		sizeDesc: prometheus.NewDesc("quire_db_pool_max_connections",
			"The app pool's size (QUIRE_DB_MAX_CONNS).", nil, nil),
		waitDesc: prometheus.NewDesc("quire_db_pool_empty_acquires_total",
			"Acquires that found no idle connection and had to wait or dial.", nil, nil),
	}
}

type acquireStartKey struct{}

func (m *poolMetrics) TraceAcquireStart(ctx context.Context, pool *pgxpool.Pool, _ pgxpool.TraceAcquireStartData) context.Context {
	m.pool.Store(pool)
	return context.WithValue(ctx, acquireStartKey{}, time.Now())
}

func (m *poolMetrics) TraceAcquireEnd(ctx context.Context, _ *pgxpool.Pool, d pgxpool.TraceAcquireEndData) {
	start, ok := ctx.Value(acquireStartKey{}).(time.Time)
	if !ok {
		return
	}
	took := time.Since(start)
	m.acquire.Observe(took.Seconds())
	for {
		old := m.maxWait.Load()
		if int64(took) <= old || m.maxWait.CompareAndSwap(old, int64(took)) {
			break
		}
	}
	if d.Err != nil {
		m.failed.Inc()
	}
}

func (m *poolMetrics) TraceQueryStart(ctx context.Context, conn *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if m.next == nil {
		return ctx
	}
	return m.next.TraceQueryStart(ctx, conn, d)
}

func (m *poolMetrics) TraceQueryEnd(ctx context.Context, conn *pgx.Conn, d pgx.TraceQueryEndData) {
	if m.next != nil {
		m.next.TraceQueryEnd(ctx, conn, d)
	}
}

// Batches (pipelines: every tenant read and the start of every tenant
// transaction) are passed on too, when next traces them: without these, a
// test's tracer behind the pool metrics saw no pipelined statement at all.
func (m *poolMetrics) TraceBatchStart(ctx context.Context, conn *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	if b, ok := m.next.(pgx.BatchTracer); ok {
		return b.TraceBatchStart(ctx, conn, d)
	}
	return ctx
}

func (m *poolMetrics) TraceBatchQuery(ctx context.Context, conn *pgx.Conn, d pgx.TraceBatchQueryData) {
	if b, ok := m.next.(pgx.BatchTracer); ok {
		b.TraceBatchQuery(ctx, conn, d)
	}
}

func (m *poolMetrics) TraceBatchEnd(ctx context.Context, conn *pgx.Conn, d pgx.TraceBatchEndData) {
	if b, ok := m.next.(pgx.BatchTracer); ok {
		b.TraceBatchEnd(ctx, conn, d)
	}
}

func (m *poolMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.acquire.Describe(ch)
	m.failed.Describe(ch)
	ch <- m.maxDesc
	ch <- m.connDesc
	ch <- m.sizeDesc
	ch <- m.waitDesc
}

func (m *poolMetrics) Collect(ch chan<- prometheus.Metric) {
	m.acquire.Collect(ch)
	m.failed.Collect(ch)
	ch <- prometheus.MustNewConstMetric(m.maxDesc, prometheus.GaugeValue,
		time.Duration(m.maxWait.Load()).Seconds())
	pool := m.pool.Load()
	if pool == nil {
		return
	}
	s := pool.Stat()
	for state, n := range map[string]int32{
		"acquired": s.AcquiredConns(), "idle": s.IdleConns(), "constructing": s.ConstructingConns(),
	} {
		ch <- prometheus.MustNewConstMetric(m.connDesc, prometheus.GaugeValue, float64(n), state)
	}
	ch <- prometheus.MustNewConstMetric(m.sizeDesc, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(m.waitDesc, prometheus.CounterValue, float64(s.EmptyAcquireCount()))
}
