package httpserver_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/quirehq/quire/internal/authn"
	"github.com/quirehq/quire/internal/httpserver"
)

// TestRequestDeadline: a /graphql request's context carries the configured
// deadline; a websocket upgrade's has none.
func TestRequestDeadline(t *testing.T) {
	var deadline time.Time
	var ok bool
	f := newFixture(t, func(c *httpserver.Config) {
		c.RequestTimeout = 3 * time.Second
		c.GraphQL = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			deadline, ok = r.Context().Deadline()
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"data":{}}`)
		})
	})
	start := time.Now()
	if w := f.do(postJSON(`{"query":"{ me { id } }"}`)); w.Code != http.StatusOK {
		t.Fatalf("POST /graphql = %d %s", w.Code, w.Body)
	}
	if !ok || deadline.Before(start.Add(3*time.Second)) || deadline.After(time.Now().Add(3*time.Second)) {
		t.Errorf("POST /graphql deadline = %v (set %v), want 3s after the request", deadline, ok)
	}

	ok = false
	r := httptest.NewRequest(http.MethodGet, "/graphql", nil)
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Connection", "Upgrade")
	f.do(r)
	if ok {
		t.Errorf("websocket upgrade got a deadline %v, want none", deadline)
	}
}

// TestRequestDeadlineReachesAuthentication: the credential check (a
// database look-up for API keys) runs under the deadline too.
func TestRequestDeadlineReachesAuthentication(t *testing.T) {
	var hadDeadline bool
	f := newFixture(t, func(c *httpserver.Config) {
		c.RequestTimeout = time.Second
		c.Authenticate = func(ctx context.Context, _ string) (authn.Identity, error) {
			_, hadDeadline = ctx.Deadline()
			return authn.Identity{}, nil
		}
	})
	r := postJSON(`{"query":"{ me { id } }"}`)
	r.Header.Set("Authorization", "Bearer some-token")
	f.do(r)
	if !hadDeadline {
		t.Error("authentication ran without the request deadline")
	}
}

// serveFor starts ServeListener on a free port with t and returns its
// address, the function that stops it and where its result arrives.
func serveFor(tb testing.TB, h http.Handler, timeouts httpserver.Timeouts) (addr string, stop context.CancelFunc, done <-chan error) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc, returned := make(chan error, 1), make(chan struct{})
	go func() {
		defer close(returned)
		errc <- httpserver.ServeListener(ctx, ln, h, nil, timeouts)
	}()
	tb.Cleanup(func() {
		cancel()
		select {
		case <-returned:
		case <-time.After(20 * time.Second):
			tb.Error("ServeListener did not return")
		}
	})
	return ln.Addr().String(), cancel, errc
}

// TestShutdownDrainsInFlight: a request under way when the shutdown
// starts is answered in full, and ServeListener returns nil after it.
func TestShutdownDrainsInFlight(t *testing.T) {
	entered := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-httpserver.ShuttingDown(r.Context()) // finish only once the shutdown is under way
		_, _ = io.WriteString(w, "finished")
	})
	addr, stop, done := serveFor(t, h, httpserver.Timeouts{})
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/slow")
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- fmt.Sprintf("%d %s", resp.StatusCode, b)
	}()
	<-entered
	stop()
	if s := <-got; s != "200 finished" {
		t.Errorf("in-flight request = %q, want 200 finished", s)
	}
	if err := <-done; err != nil {
		t.Errorf("ServeListener = %v, want nil", err)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("the server still accepts connections after shutting down")
	}
}

// TestShutdownSignalsWebsockets: a hijacked connection learns of the
// shutdown through ShuttingDown, and ServeListener waits for its handler.
func TestShutdownSignalsWebsockets(t *testing.T) {
	handlerDone := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(handlerDone)
		down := httpserver.ShuttingDown(r.Context())
		if down == nil {
			t.Error("ShuttingDown is nil under ServeListener")
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		_ = rw.Flush()
		<-down
		_, _ = rw.WriteString("going away\n")
		_ = rw.Flush()
	})
	addr, stop, done := serveFor(t, h, httpserver.Timeouts{})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = fmt.Fprint(conn, "GET /graphql HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	stop()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := br.ReadString('\n')
	if err != nil || line != "going away\n" {
		t.Fatalf("after the shutdown began the websocket read %q, %v; want the handler's farewell", line, err)
	}
	<-handlerDone
	if err := <-done; err != nil {
		t.Errorf("ServeListener = %v, want nil", err)
	}
}

// TestShutdownGivesUpOnWebsockets: a websocket that ignores the shutdown
// makes ServeListener fail once the shutdown timeout has passed, rather
// than hang.
func TestShutdownGivesUpOnWebsockets(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	upgraded := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		close(upgraded)
		<-release
	})
	addr, stop, done := serveFor(t, h, httpserver.Timeouts{Shutdown: 200 * time.Millisecond})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = fmt.Fprint(conn, "GET /graphql HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	<-upgraded
	stop()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "websockets still open") {
			t.Errorf("ServeListener = %v, want websockets still open", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeListener hangs on a websocket that ignores the shutdown")
	}
}

// TestSlowBodyIsCut: a client that sends headers and then dribbles its
// body (slowloris) is disconnected once the read timeout passes.
func TestSlowBodyIsCut(t *testing.T) {
	f := newFixture(t, nil)
	addr, _, _ := serveFor(t, f.h, httpserver.Timeouts{Read: 300 * time.Millisecond})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	_, _ = fmt.Fprint(conn, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = io.ReadAll(conn) // whatever the server answers, it must then close
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("the server still holds a connection whose body never came, 10s on")
		}
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("connection closed after %v, before the read timeout", took)
	}
}

// TestWebsocketOutlivesDeadlines: once a connection is hijacked, the read
// and write timeouts of ordinary requests no longer apply to it.
func TestWebsocketOutlivesDeadlines(t *testing.T) {
	const timeout = 100 * time.Millisecond
	f := newFixture(t, func(c *httpserver.Config) {
		c.GraphQL = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, rw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			defer conn.Close()
			_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
			_ = rw.Flush()
			// Echo one line, well after both timeouts would have fired.
			line, err := rw.ReadString('\n')
			if err != nil {
				t.Errorf("read on the hijacked connection: %v", err)
				return
			}
			_, _ = rw.WriteString(line)
			_ = rw.Flush()
		})
	})
	addr, _, _ := serveFor(t, f.h, httpserver.Timeouts{Read: timeout, Write: timeout, ReadHeader: timeout})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = fmt.Fprint(conn, "GET /graphql HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	br := bufio.NewReader(conn)
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	<-time.After(3 * timeout) // the property under test: outliving the timeouts
	_, _ = fmt.Fprint(conn, "still here\n")
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if line, err := br.ReadString('\n'); err != nil || line != "still here\n" {
		t.Errorf("echo after the timeouts = %q, %v; want the line back", line, err)
	}
}
