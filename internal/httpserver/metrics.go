package httpserver

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// The routes the server knows. Metrics label requests with one of these or
// routeOther, never the raw path, which a client could vary without end.
const (
	routeGraphQL  = "/graphql"
	routeRoot     = "/"
	routeHealthz  = "/healthz"
	routeReadyz   = "/readyz"
	routeMetrics  = "/metrics"
	routeLogin    = "/login"
	routeLoginJS  = "/login.js"
	routeInvite   = "/invite"
	routeInviteJS = "/invite.js"
	routeOther    = "other"
)

func routeName(path string) string {
	switch path {
	case routeGraphQL, routeRoot, routeHealthz, routeReadyz, routeMetrics, routeLogin, routeLoginJS,
		routeInvite, routeInviteJS:
		return path
	}
	return routeOther
}

// methodLabel bounds the method label the same way: clients may send any
// token as a method.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodOptions, http.MethodHead,
		http.MethodPut, http.MethodPatch, http.MethodDelete:
		return method
	}
	return "other"
}

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// newMetrics registers the HTTP metrics and the Go and process collectors on
// reg. Registering on a registry that already has them (a second New in the
// same process) reuses the existing collectors.
func newMetrics(reg prometheus.Registerer) *metrics {
	register(reg, collectors.NewGoCollector())
	register(reg, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &metrics{
		requests: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quire_http_requests_total",
			Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"})),
		duration: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "quire_http_request_duration_seconds",
			Help:    "HTTP request latency by route; websocket connections are not observed.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"})),
	}
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	panic(fmt.Errorf("register metrics: %w", err))
}

// observe counts and times each request and writes its access log line. The
// line is written even when the handler panics (recoverPanics, further out,
// then answers 500), so it is deferred.
func (m *metrics) observe(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := asRecorder(w)
		start := time.Now()
		completed := false
		defer func() {
			status := rec.status
			switch {
			case !completed && !rec.wroteHeader:
				status = http.StatusInternalServerError
			case !rec.wroteHeader:
				status = http.StatusOK
			}
			d := time.Since(start)
			m.record(r, status, d, rec.hijacked)
			logger.InfoContext(r.Context(), "request",
				slog.String("request_id", requestID(r)),
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path), // never RawQuery: GET /graphql carries variables
				slog.Int("status", status),
				slog.Int64("bytes", rec.bytes),
				slog.Float64("duration_ms", float64(d.Microseconds())/1000),
				slog.String("client_ip", clientIP(r)))
		}()
		next.ServeHTTP(rec, r)
		completed = true
	})
}

func (m *metrics) record(r *http.Request, status int, d time.Duration, hijacked bool) {
	route := routeName(r.URL.Path)
	m.requests.WithLabelValues(route, methodLabel(r.Method), strconv.Itoa(status)).Inc()
	// A hijacked connection's duration is a websocket's lifetime, which
	// would drown the latency of ordinary requests.
	if !hijacked {
		m.duration.WithLabelValues(route).Observe(d.Seconds())
	}
}
