package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/quirehq/quire/internal/pgcluster"
)

// server is `quire serve` on a fresh embedded database under dir, started
// by the soak and stopped by it.
type server struct {
	bin     string
	dir     string // the soak's directory: data/, mail/, serve.log
	dataDir string // QUIRE_DATA_DIR: the cluster lives in dataDir/pgdata
	mailDir string
	addr    string
	env     []string
	cmd     *exec.Cmd
	exited  chan struct{}
	exitErr error
}

// startServer starts bin on a new directory under /tmp (every directory
// above the cluster must be enterable by the postgres user when we run as
// root) with rate limits off and every mail written to a directory, and
// waits until /readyz answers.
func startServer(ctx context.Context, bin string, reqTimeout time.Duration) (*server, error) {
	abs, err := filepath.Abs(bin)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("%s: %w (build it first: go build -o bin/quire ./cmd/server)", bin, err)
	}
	dir, err := os.MkdirTemp("/tmp", "quire-soak-")
	if err != nil {
		return nil, err
	}
	s := &server{
		bin: abs, dir: dir, dataDir: filepath.Join(dir, "data"), mailDir: filepath.Join(dir, "mail"),
		exited: make(chan struct{}),
	}
	// MkdirTemp makes it 0700; the postgres user must pass through it to
	// the data directory (which pgcluster keeps to itself).
	if err := os.Chmod(dir, 0o711); err != nil {
		return s, err
	}
	port, err := freePort()
	if err != nil {
		return s, err
	}
	s.addr = "127.0.0.1:" + strconv.Itoa(port)
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "QUIRE_") || strings.HasPrefix(name, "DATABASE_") || strings.HasPrefix(name, "PG") {
			continue
		}
		s.env = append(s.env, kv)
	}
	s.env = append(s.env,
		"QUIRE_DATA_DIR="+s.dataDir, "QUIRE_ADDR="+s.addr, "QUIRE_MAIL_DIR="+s.mailDir,
		"QUIRE_RATE_LIMIT=0", "QUIRE_KEY_RATE_LIMIT=0", "QUIRE_LOG_LEVEL=warn", "QUIRE_LOG_FORMAT=json",
		// The write timeout must exceed the request deadline, whatever
		// --request-timeout says; everything else keeps its default.
		"QUIRE_REQUEST_TIMEOUT="+reqTimeout.String(), "QUIRE_HTTP_WRITE_TIMEOUT="+(reqTimeout+10*time.Second).String())
	log, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		return s, err
	}
	s.cmd = exec.Command(abs, "serve")
	s.cmd.Env = s.env
	s.cmd.Stdout, s.cmd.Stderr = log, log
	// Its own process group: a Ctrl-C on the soak reaches the soak, which
	// then stops the server in order (and the server its cluster).
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		log.Close()
		close(s.exited)
		return s, err
	}
	go func() {
		s.exitErr = s.cmd.Wait()
		log.Close()
		close(s.exited)
	}()
	deadline := time.Now().Add(3 * time.Minute) // initdb with fsync on a busy machine
	for {
		if status, _ := s.get(ctx, "/readyz", 2*time.Second); status == http.StatusOK {
			return s, nil
		}
		select {
		case <-s.exited:
			return s, fmt.Errorf("quire serve exited before it was ready (%v); see %s", s.exitErr, log.Name())
		case <-ctx.Done():
			return s, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return s, fmt.Errorf("quire serve not ready after 3 minutes; see %s", log.Name())
		}
	}
}

func (s *server) url(path string) string { return "http://" + s.addr + path }

// get answers the status of GET path, or 0 and the error.
func (s *server) get(ctx context.Context, path string, timeout time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url(path), nil)
	if err != nil {
		return 0, err
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// probeClient serves /readyz and /metrics, apart from the traffic's
// connections.
var probeClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}

func (s *server) running() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// admin runs `quire admin ARGS` against the same data directory.
func (s *server) admin(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, s.bin, append([]string{"admin"}, args...)...)
	cmd.Env = s.env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("quire admin %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// stop sends SIGTERM and waits up to timeout for a clean exit (the server
// stops its cluster on the way out).
func (s *server) stop(timeout time.Duration) (exitedIn time.Duration, err error) {
	if !s.running() {
		return 0, fmt.Errorf("quire serve had already exited: %v", s.exitErr)
	}
	start := time.Now()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return time.Since(start), s.exitErr
	case <-time.After(timeout):
		_ = s.cmd.Process.Kill()
		<-s.exited
		return time.Since(start), fmt.Errorf("quire serve still running %s after SIGTERM; killed", timeout)
	}
}

// cleanup kills a server still running and removes the directory unless
// keep is set.
func (s *server) cleanup(keep bool) {
	if s == nil {
		return
	}
	if s.cmd != nil && s.cmd.Process != nil && s.running() {
		logf("stop the server")
		_, _ = s.stop(30 * time.Second)
	}
	if keep {
		logf("kept %s (server log: serve.log, database: data/)", s.dir)
		return
	}
	os.RemoveAll(s.dir)
}

// tailLog returns the last n lines of the server's log.
func (s *server) tailLog(n int) string {
	b, err := os.ReadFile(filepath.Join(s.dir, "serve.log"))
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// superuserURL is the superuser's URL of the development database, over
// the cluster's unix socket: the soak reads what was written as it is,
// past row-level security.
func (s *server) superuserURL(ctx context.Context) (string, error) {
	// Open finds the cluster the server started running and only learns
	// its port and socket; Started() is false, so nothing here stops it.
	c, err := pgcluster.Open(ctx, pgcluster.Options{Dir: s.dataDir})
	if err != nil {
		return "", err
	}
	return c.SuperuserURL(pgcluster.DevDatabase), nil
}

// restartPostgres runs pg_ctl restart -m fast on the server's cluster, as
// the postgres OS user when we are root (as pgcluster runs every
// PostgreSQL program), and waits for the cluster to accept connections.
func (s *server) restartPostgres(ctx context.Context) error {
	bin, err := pgcluster.FindBinaries()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "pg_ctl"), "restart", "-m", "fast", "-w", "-t", "60",
		"-D", filepath.Join(s.dataDir, "pgdata"), "-l", filepath.Join(s.dataDir, "postgres.log"))
	cmd.Dir = s.dataDir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("restart as the postgres user: %w", err)
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	// The new postmaster writes to the log file, not our pipes; should
	// anything still hold them, do not hang.
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl restart: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
