package httpserver_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/quirehq/quire/internal/httpserver"
)

func TestServeListener(t *testing.T) {
	f := newFixture(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- httpserver.ServeListener(ctx, ln, f.h, nil, httpserver.Timeouts{}) }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != `{"status":"ok"}` {
		t.Errorf("GET /healthz = %d %s", resp.StatusCode, body)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("ServeListener after cancel = %v, want nil", err)
	}
}

func TestServeBadAddress(t *testing.T) {
	if err := httpserver.Serve(t.Context(), "256.0.0.1:http", http.NotFoundHandler(), nil, httpserver.Timeouts{}); err == nil {
		t.Error("Serve on a bad address returned nil")
	}
}
