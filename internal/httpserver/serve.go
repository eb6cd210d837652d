package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Timeouts bound every connection and the shutdown. A zero field takes its
// default (the configuration's: README, Configuration).
type Timeouts struct {
	// ReadHeader bounds reading a request's headers, Read the whole
	// request, body included: slow clients cannot hold a connection.
	ReadHeader, Read time.Duration
	// Write bounds a request from the end of its headers to the end of its
	// response; it must exceed the request deadline (Config.RequestTimeout)
	// so that a request cut by its deadline can still be answered.
	Write time.Duration
	// Idle closes a keep-alive connection that sends nothing for this long.
	Idle time.Duration
	// Shutdown is how long in-flight requests and websockets get to finish
	// once the context is done.
	Shutdown time.Duration
}

func (t Timeouts) withDefaults() Timeouts {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&t.ReadHeader, 10*time.Second)
	def(&t.Read, 15*time.Second)
	def(&t.Write, 20*time.Second)
	def(&t.Idle, 2*time.Minute)
	def(&t.Shutdown, 15*time.Second)
	return t
}

// Serve listens on addr and serves h until ctx is done; see ServeListener.
func Serve(ctx context.Context, addr string, h http.Handler, logger *slog.Logger, t Timeouts) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ServeListener(ctx, ln, h, logger, t)
}

type shuttingDownKey struct{}

// ShuttingDown returns a channel that is closed when the server serving the
// request of ctx begins to shut down. http.Server.Shutdown neither waits for
// nor closes hijacked connections, so a websocket watches this to close
// itself with a proper close code. Outside ServeListener (a test server) it
// returns nil, which never becomes ready.
func ShuttingDown(ctx context.Context) <-chan struct{} {
	c, _ := ctx.Value(shuttingDownKey{}).(<-chan struct{})
	return c
}

// ServeListener serves h on ln, which it takes over and closes, until ctx is
// done, then shuts down gracefully: it stops accepting, lets in-flight
// requests finish, tells websockets to close (ShuttingDown) and waits for
// them, all within t.Shutdown. It returns nil after a clean shutdown and an
// error if serving failed or the shutdown timed out.
func ServeListener(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger, t Timeouts) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	t = t.withDefaults()
	down := make(chan struct{})
	var upgraded sync.WaitGroup
	srv := &http.Server{
		Handler: waitUpgrades(&upgraded, h),
		// Requests do not inherit ctx: its end starts a graceful shutdown,
		// which lets them finish, rather than cancelling them all.
		BaseContext: func(net.Listener) context.Context {
			return context.WithValue(context.Background(), shuttingDownKey{}, (<-chan struct{})(down))
		},
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(func() { close(down) })
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.InfoContext(ctx, "listening", slog.String("addr", ln.Addr().String()))

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.InfoContext(ctx, "shutting down", slog.Duration("timeout", t.Shutdown))
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.Shutdown)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close() // the deadline passed; drop what is left
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	// Shutdown returned, so every ordinary request is done and no new one
	// can start: the wait group only goes down from here.
	websockets := make(chan struct{})
	go func() { upgraded.Wait(); close(websockets) }()
	select {
	case <-websockets:
	case <-sctx.Done():
		return fmt.Errorf("shut down: websockets still open after %s", t.Shutdown)
	}
	logger.InfoContext(ctx, "server stopped")
	return nil
}

// waitUpgrades counts the handlers of websocket upgrades, which run for the
// connection's life, so that the shutdown can wait for them.
func waitUpgrades(wg *sync.WaitGroup, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isWebsocketUpgrade(r) {
			wg.Add(1)
			defer wg.Done()
		}
		next.ServeHTTP(w, r)
	})
}
