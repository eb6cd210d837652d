package httpserver

import "time"

// Limiter exposes the rate limiter to the black-box tests, which drive its
// clock instead of sleeping.
type Limiter struct{ l *limiter }

// NewTestLimiter returns a limiter holding at most maxEntries clients and
// reading time from now.
func NewTestLimiter(perSecond float64, burst, maxEntries int, now func() time.Time) *Limiter {
	l := newLimiter(perSecond, burst)
	l.max = maxEntries
	l.now = now
	return &Limiter{l: l}
}

func (t *Limiter) Allow(key string) bool { return t.l.allow(key) }

func (t *Limiter) Size() int {
	t.l.mu.Lock()
	defer t.l.mu.Unlock()
	return len(t.l.clients)
}

var ClientKey = clientKey
