package main

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

const noteEventsOp = `subscription { noteEvents { kind note { ` + noteFields + ` } } }`

// subscriber holds one noteEvents subscription open for a viewer, as a
// graphql-transport-ws client would: it answers pings, checks every event
// like any other answer, subscribes again when the server ends the
// operation, and redials when the socket closes — except once the server
// shuts down, when the close code is what it records.
type subscriber struct {
	url string
	t   *tenant
	m   *member
	c   *client
	l   *ledger

	shuttingDown *atomic.Bool

	mu     sync.Mutex
	events []time.Time     // when each event arrived
	got    map[string]bool // note ids events were about
	ends   []subEnd        // operations the server ended
	closes []subClose      // sockets that closed
	gotOne chan struct{}   // signalled on every event
	done   chan struct{}   // closed when run returns
	final  websocket.StatusCode
}

type subEnd struct {
	at   time.Time
	code string
}

type subClose struct {
	at     time.Time
	status websocket.StatusCode
	err    string
}

func newSubscriber(url string, t *tenant, m *member, c *client, l *ledger, down *atomic.Bool) *subscriber {
	return &subscriber{url: "ws" + strings.TrimPrefix(url, "http") + "/graphql", t: t, m: m, c: c, l: l,
		shuttingDown: down, got: map[string]bool{}, done: make(chan struct{})}
}

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// run keeps the subscription up until ctx ends or the server closes the
// socket while shutting down.
func (s *subscriber) run(ctx context.Context) {
	defer close(s.done)
	for ctx.Err() == nil {
		status, err := s.session(ctx)
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		if s.shuttingDown.Load() {
			s.final = status
			s.mu.Unlock()
			return
		}
		s.closes = append(s.closes, subClose{at: time.Now(), status: status, err: errString(err)})
		s.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// session dials, subscribes and reads until the socket closes, returning
// its close status.
func (s *subscriber) session(ctx context.Context) (websocket.StatusCode, error) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, _, err := websocket.Dial(dctx, s.url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	cancel()
	if err != nil {
		return -1, err
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	write := func(m wsMsg) error {
		b, _ := json.Marshal(m)
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return conn.Write(wctx, websocket.MessageText, b)
	}
	who := s.m.creds(ctx, s.c, s.t.id)
	init, _ := json.Marshal(map[string]string{"Authorization": "Bearer " + who.token, "X-Organization-Id": s.t.id})
	if err := write(wsMsg{Type: "connection_init", Payload: init}); err != nil {
		return websocket.CloseStatus(err), err
	}
	var op atomic.Int64
	subscribe := func() error {
		p, _ := json.Marshal(map[string]any{"query": noteEventsOp})
		return write(wsMsg{ID: strconv.FormatInt(op.Add(1), 10), Type: "subscribe", Payload: p})
	}
	// again subscribes anew after a pause, as a client would, once the
	// server ended the operation (coder's Conn takes concurrent writes, so
	// reading goes on meanwhile).
	again := func() {
		go func() {
			select {
			case <-time.After(500 * time.Millisecond):
				_ = subscribe()
			case <-ctx.Done():
			}
		}()
	}
	endedOp := ""
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			return websocket.CloseStatus(err), err
		}
		var m wsMsg
		if err := json.Unmarshal(b, &m); err != nil {
			return -1, err
		}
		switch m.Type {
		case "connection_ack":
			if err := subscribe(); err != nil {
				return websocket.CloseStatus(err), err
			}
		case "ping":
			if err := write(wsMsg{Type: "pong"}); err != nil {
				return websocket.CloseStatus(err), err
			}
		case "next":
			if code := s.event(m.Payload); code != "" {
				s.ended(code)
				endedOp = m.ID
				again()
			}
		case "error", "complete":
			if m.ID != strconv.FormatInt(op.Load(), 10) || m.ID == endedOp {
				continue // an operation already replaced, or whose end is counted
			}
			code := "COMPLETE"
			if m.Type == "error" {
				var errs []gqlError
				_ = json.Unmarshal(m.Payload, &errs)
				code = codeNoCode
				if len(errs) > 0 {
					if c, _ := errs[0].Extensions["code"].(string); c != "" {
						code = c
					}
				}
			}
			s.ended(code)
			endedOp = m.ID
			again()
		}
	}
}

func (s *subscriber) ended(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ends = append(s.ends, subEnd{at: time.Now(), code: code})
}

// event checks a delivered note like any other answer: the viewer's
// organization, never another member's PRIVATE note. It returns the code
// of an error the server sent instead (ending the operation).
func (s *subscriber) event(payload json.RawMessage) string {
	var p struct {
		Data *struct {
			NoteEvents struct {
				Kind string   `json:"kind"`
				Note *noteOut `json:"note"`
			} `json:"noteEvents"`
		} `json:"data"`
		Errors []gqlError `json:"errors"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return codeBadBody
	}
	if len(p.Errors) > 0 {
		if c, _ := p.Errors[0].Extensions["code"].(string); c != "" {
			return c
		}
		return codeNoCode
	}
	if p.Data == nil {
		return codeBadBody
	}
	if n := p.Data.NoteEvents.Note; n != nil {
		// No staleness check: an event shows the note as it is when
		// delivered, which may be after the change it announces.
		s.l.shown("noteEvents", s.t.id, s.m.id, *n, time.Time{})
		s.mu.Lock()
		s.got[n.ID] = true
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.events = append(s.events, time.Now())
	s.mu.Unlock()
	return ""
}

// saw reports whether an event about note id arrived.
func (s *subscriber) saw(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got[id]
}

// eventsAfter counts events that arrived after t.
func (s *subscriber) eventsAfter(t time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.events {
		if e.After(t) {
			n++
		}
	}
	return n
}
