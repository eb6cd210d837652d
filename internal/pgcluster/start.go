package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// ensureRunning starts the cluster unless another process already runs it,
// in which case it learns the port and socket from postmaster.pid.
func (c *Cluster) ensureRunning(ctx context.Context) error {
	running, err := c.running(ctx)
	if err != nil {
		return err
	}
	if !running {
		err := c.start(ctx)
		if err == nil {
			return nil
		}
		// Two commands may have raced to start it; only the loser gets here.
		if running, _ := c.running(ctx); !running {
			return err
		}
	}
	if err := c.waitReady(ctx); err != nil {
		return err
	}
	c.log.Debug("postgres already running", "dir", c.dir, "port", c.port)
	return nil
}

// running asks pg_ctl status, which checks postmaster.pid and that its
// process is alive.
func (c *Cluster) running(ctx context.Context) (bool, error) {
	err := c.pgCtl(ctx, "status", "-D", c.pgdata).Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &exit) && exit.ExitCode() == 3: // not running
		return false, nil
	default:
		return false, fmt.Errorf("check cluster status: %w", err)
	}
}

// start starts the postmaster on the remembered port, or on a new free one if
// something else took it.
func (c *Cluster) start(ctx context.Context) error {
	port := c.rememberedPort()
	if port == 0 || !portFree(port) {
		p, err := freePort()
		if err != nil {
			return err
		}
		port = p
	}
	if err := c.writeSettings(c.pgdata, port); err != nil {
		return err
	}
	logFile := filepath.Join(c.dir, "postgres.log")
	// Not cancellable: killing pg_ctl half-way would leave a postmaster that
	// nobody knows it must stop.
	cmd := c.pgCtl(context.WithoutCancel(ctx), "start", "-w", "-t", "60", "-D", c.pgdata, "-l", logFile)
	// Its own process group: a terminal's Ctrl-C goes to our process, which
	// stops the cluster in order, and not straight to the postmaster.
	cmd.SysProcAttr.Setpgid = true
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("start cluster: %w: %s (see %s)", err, strings.TrimSpace(string(out)), logFile)
	}
	c.mu.Lock()
	c.port, c.started = port, true
	c.mu.Unlock()
	c.log.Debug("postgres started", "dir", c.dir, "port", port)
	return nil
}

// readPIDFile takes the port and socket directory of a running postmaster
// from postmaster.pid: line 4 is the port, line 5 the first socket directory.
func (c *Cluster) readPIDFile() error {
	b, err := os.ReadFile(filepath.Join(c.pgdata, "postmaster.pid"))
	if err != nil {
		return fmt.Errorf("read postmaster.pid: %w", err)
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 5 {
		return fmt.Errorf("read postmaster.pid: only %d lines", len(lines))
	}
	port, err := strconv.Atoi(strings.TrimSpace(lines[3]))
	if err != nil {
		return fmt.Errorf("read postmaster.pid: port: %w", err)
	}
	c.port = port
	if d := strings.TrimSpace(lines[4]); d != "" {
		c.sockDir = d
	}
	return nil
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}
