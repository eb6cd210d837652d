package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// readiness polls /readyz and keeps every answer: the outage is read off
// it afterwards.
type readiness struct {
	mu      sync.Mutex
	samples []readySample
}

type readySample struct {
	at     time.Time
	status int // 0: no answer
}

func (r *readiness) run(ctx context.Context, s *server, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		status, _ := s.get(ctx, "/readyz", 3*time.Second)
		r.mu.Lock()
		r.samples = append(r.samples, readySample{at: time.Now(), status: status})
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// outage reads the samples taken from since: the first answer that was
// not 200, and the first 200 after it. ok is false if there was none.
func (r *readiness) outage(since time.Time) (down, up time.Time, statuses map[int]int, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	statuses = map[int]int{}
	for _, s := range r.samples {
		if s.at.Before(since) {
			continue
		}
		switch {
		case down.IsZero() && s.status != http.StatusOK:
			down = s.at
			statuses[s.status]++
		case !down.IsZero() && up.IsZero() && s.status != http.StatusOK:
			statuses[s.status]++
		case !down.IsZero() && up.IsZero():
			up = s.at
		}
	}
	return down, up, statuses, !down.IsZero() && !up.IsZero()
}

// notReady counts answers other than 200 in [from, to).
func (r *readiness) notReady(from, to time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.samples {
		if !s.at.Before(from) && s.at.Before(to) && s.status != http.StatusOK {
			n++
		}
	}
	return n
}

// sample is one scrape of /metrics.
type sample struct {
	at         time.Time
	goroutines float64
	rss        float64
	acquireMax float64 // quire_db_pool_acquire_max_seconds
	acquire    map[string]float64
}

// sampler scrapes /metrics at an interval.
type sampler struct {
	mu      sync.Mutex
	samples []sample
	errs    int
}

func (m *sampler) run(ctx context.Context, s *server, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		smp, err := scrape(ctx, s)
		m.mu.Lock()
		if err != nil {
			m.errs++
		} else {
			m.samples = append(m.samples, smp)
		}
		m.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func scrape(ctx context.Context, s *server) (sample, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url("/metrics"), nil)
	resp, err := probeClient.Do(req)
	if err != nil {
		return sample{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return sample{}, fmt.Errorf("/metrics: HTTP %d", resp.StatusCode)
	}
	smp := sample{at: time.Now(), acquire: map[string]float64{}}
	found := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		switch {
		case name == "go_goroutines":
			smp.goroutines = v
			found++
		case name == "process_resident_memory_bytes":
			smp.rss = v
			found++
		case name == "quire_db_pool_acquire_max_seconds":
			smp.acquireMax = v
			found++
		case strings.HasPrefix(name, "quire_db_pool_acquire_seconds"):
			smp.acquire[name] = v
		}
	}
	if err := sc.Err(); err != nil {
		return sample{}, err
	}
	if found < 3 {
		return sample{}, fmt.Errorf("/metrics lacks go_goroutines, process_resident_memory_bytes or quire_db_pool_acquire_max_seconds")
	}
	return smp, nil
}

// peak is the most goroutines and RSS any sample saw.
func (m *sampler) peak() (goroutines, rss float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.samples {
		goroutines, rss = max(goroutines, s.goroutines), max(rss, s.rss)
	}
	return goroutines, rss
}

func (m *sampler) last() (sample, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.samples) == 0 {
		return sample{}, false
	}
	return m.samples[len(m.samples)-1], true
}
