package httpserver

import (
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/quirehq/quire/internal/qerr"
)

const (
	// idleTTL is how long a client's bucket is kept unused. A bucket left
	// that long has refilled whenever burst ≤ 600 × rate, so forgetting it
	// changes nothing for any sensible configuration.
	idleTTL = 10 * time.Minute
	// sweepEvery bounds how often the map is scanned for idle entries.
	sweepEvery = time.Minute
	// maxClients caps the map, so a flood of addresses cannot grow memory
	// without bound.
	maxClients = 100_000
)

// limiter is a token bucket per client address. Clients beyond maxClients
// share one overflow bucket until idle entries are swept: under such a flood
// new clients are slowed together rather than existing ones reset.
type limiter struct {
	limit rate.Limit
	burst int
	max   int
	now   func() time.Time

	mu        sync.Mutex
	clients   map[string]*bucket
	overflow  *rate.Limiter
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(perSecond float64, burst int) *limiter {
	burst = max(burst, 1)
	return &limiter{
		limit:    rate.Limit(perSecond),
		burst:    burst,
		max:      maxClients,
		now:      time.Now,
		clients:  make(map[string]*bucket),
		overflow: rate.NewLimiter(rate.Limit(perSecond), burst),
	}
}

// middleware answers 429 RATE_LIMITED, with Retry-After, once a client has
// spent its burst.
func (l *limiter) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !l.allow(clientKey(clientIP(r))) {
			w.Header().Set("Retry-After", "1")
			WriteError(w, http.StatusTooManyRequests, qerr.RateLimited, "rate limit exceeded", nil)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (l *limiter) allow(key string) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= sweepEvery {
		l.sweep(now)
	}
	b, ok := l.clients[key]
	if !ok {
		if len(l.clients) >= l.max {
			return l.overflow.AllowN(now, 1)
		}
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.clients[key] = b
	}
	b.seen = now
	return b.lim.AllowN(now, 1)
}

// sweep forgets clients idle for idleTTL. The caller holds l.mu.
func (l *limiter) sweep(now time.Time) {
	for k, b := range l.clients {
		if now.Sub(b.seen) >= idleTTL {
			delete(l.clients, k)
		}
	}
	l.lastSweep = now
}

// clientKey groups IPv6 clients by /64: one host usually holds a whole /64
// and could otherwise take a fresh bucket per address.
func clientKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil || !addr.Is6() || addr.Is4In6() {
		return ip
	}
	p, err := addr.WithZone("").Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}
