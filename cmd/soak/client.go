package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Outcome codes beside the API's extensions.code values: what went wrong
// below GraphQL.
const (
	codeOK        = "OK"
	codeTransport = "TRANSPORT" // the connection failed or was closed
	codeHang      = "HANG"      // no answer within the request deadline and a margin
	codeBadBody   = "BAD_RESPONSE"
	codeNoCode    = "NO_CODE" // an error without extensions.code
)

// creds is who a request is sent as: an access token or an API key, and
// the organization (for a user token).
type creds struct {
	token string
	org   string
}

// result is one request's answer.
type result struct {
	op         string
	status     int
	data       map[string]json.RawMessage
	errs       []gqlError
	code       string // codeOK, the first error's extensions.code, or one of ours
	start, end time.Time
	detail     string // what a transport or body failure said
}

type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

func (r result) ok() bool { return r.code == codeOK }

func (r result) took() time.Duration { return r.end.Sub(r.start) }

// decode unmarshals data[field] into v.
func (r result) decode(field string, v any) error {
	raw, ok := r.data[field]
	if !ok {
		return fmt.Errorf("%s: no data.%s", r.op, field)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: decode data.%s: %w", r.op, field, err)
	}
	return nil
}

// client posts GraphQL operations and counts every answer.
type client struct {
	url      string
	http     *http.Client
	deadline time.Duration // the server's request deadline
	tally    *tally
}

func newClient(url string, conns int, deadline time.Duration, t *tally) *client {
	tr := &http.Transport{MaxIdleConns: 2 * conns, MaxIdleConnsPerHost: 2 * conns, IdleConnTimeout: 90 * time.Second}
	return &client{url: url, http: &http.Client{Transport: tr}, deadline: deadline, tally: t}
}

// hangAfter is when the client stops waiting: the server's deadline plus a
// margin for answering. Anything longer counts as a hang.
func (c *client) hangAfter() time.Duration { return c.deadline + 5*time.Second }

// post sends one operation as who and records its outcome under op.
// expected lists the error codes that are an assertion passing rather than
// an error (CONFLICT for a stale update, NOT_FOUND for a probe).
func (c *client) post(ctx context.Context, op string, who creds, query string, vars map[string]any, expected ...string) result {
	r := c.send(ctx, op, who, query, vars)
	c.tally.record(r, expected)
	return r
}

func (c *client) send(ctx context.Context, op string, who creds, query string, vars map[string]any) result {
	r := result{op: op, start: time.Now()}
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	ctx, cancel := context.WithTimeout(ctx, c.hangAfter())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if who.token != "" {
		req.Header.Set("Authorization", "Bearer "+who.token)
	}
	if who.org != "" {
		req.Header.Set("X-Organization-Id", who.org)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		r.end = time.Now()
		r.code, r.detail = codeTransport, err.Error()
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			r.code = codeHang
		}
		return r
	}
	defer resp.Body.Close()
	r.status = resp.StatusCode
	b, err := io.ReadAll(resp.Body)
	r.end = time.Now()
	if err != nil {
		r.code, r.detail = codeTransport, err.Error()
		return r
	}
	var out struct {
		Data   map[string]json.RawMessage `json:"data"`
		Errors []gqlError                 `json:"errors"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		r.code, r.detail = codeBadBody, fmt.Sprintf("HTTP %d, %.200q", resp.StatusCode, b)
		if resp.StatusCode >= 500 {
			r.code = "HTTP_" + strconv.Itoa(resp.StatusCode)
		}
		return r
	}
	r.data, r.errs = out.Data, out.Errors
	switch {
	case len(out.Errors) > 0:
		code, _ := out.Errors[0].Extensions["code"].(string)
		if code == "" {
			code = codeNoCode
		}
		r.code, r.detail = code, out.Errors[0].Message
	case resp.StatusCode != http.StatusOK:
		r.code = "HTTP_" + strconv.Itoa(resp.StatusCode)
	default:
		r.code = codeOK
	}
	return r
}

// tally counts outcomes by operation and code and keeps every failure (any
// code but OK and the expected ones) with its timing, for the outage
// analysis.
type tally struct {
	mu       sync.Mutex
	requests int
	byOp     map[string]int
	byCode   map[string]int            // every error code, expected or not
	expected map[string]map[string]int // op → expected code → count
	failures []result
	longest  time.Duration
	slowest  string        // the longest request's operation and outcome
	finished map[int64]int // requests by the unix second they ended in
}

func newTally() *tally {
	return &tally{byOp: map[string]int{}, byCode: map[string]int{}, expected: map[string]map[string]int{}, finished: map[int64]int{}}
}

func (t *tally) record(r result, expected []string) {
	// CONFLICT is the answer to racing another writer (a stale
	// expectedVersion, or PostgreSQL refusing one of two concurrent
	// transactions): expected of any write.
	expected = append(expected, "CONFLICT")
	t.mu.Lock()
	defer t.mu.Unlock()
	t.requests++
	t.byOp[r.op]++
	if r.took() > t.longest {
		t.longest, t.slowest = r.took(), r.op+" "+r.code
	}
	t.finished[r.end.Unix()]++
	if r.ok() {
		return
	}
	t.byCode[r.code]++
	for _, e := range expected {
		if r.code == e {
			if t.expected[r.op] == nil {
				t.expected[r.op] = map[string]int{}
			}
			t.expected[r.op][e]++
			return
		}
	}
	t.failures = append(t.failures, r)
}

// between counts the requests that ended in the whole seconds from from to
// to (the caller holds t.mu).
func (t *tally) between(from, to time.Time) int {
	n := 0
	for sec := from.Unix(); sec <= to.Unix(); sec++ {
		n += t.finished[sec]
	}
	return n
}
