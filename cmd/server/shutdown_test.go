package main

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/quirehq/quire/internal/httpserver"
	"github.com/quirehq/quire/internal/policy"
)

// TestShutdownClosesSubscriptionsGoingAway: when the server shuts down, a
// subscriber's websocket is closed with 1001 Going Away (so clients
// reconnect elsewhere) rather than dropped, and the server waits for it.
func TestShutdownClosesSubscriptionsGoingAway(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	done := make(chan error, 1)
	go func() { done <- httpserver.ServeListener(ctx, ln, e.handler, nil, httpserver.Timeouts{}) }()

	ws := subscribeAs(t, "http://"+ln.Addr().String(), owner.in(acme))
	e.waitSubscribed(acme, 1)
	stop()
	_, err = ws.read(10 * time.Second)
	if got := websocket.CloseStatus(err); got != websocket.StatusGoingAway {
		t.Errorf("subscriber's socket ended with %v (status %d), want close 1001 going away", err, got)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ServeListener = %v, want a clean shutdown", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not finish shutting down")
	}
}
