package pgtest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/quirehq/quire/internal/pgcluster"
)

// BouncerExecMode is the pgx query exec mode (default_query_exec_mode in the
// URL) that works through PgBouncer in transaction mode. pgx's default,
// cache_statement, prepares named statements on whichever server connection
// the client had at the time; the next transaction may get another one, or
// share this one with a client that prepares the same name. cache_describe
// keeps only each statement's description on the client and sends every
// execution as unnamed Parse/Bind/Execute in one round trip, which any
// server connection understands. (describe_exec binds, in a second round
// trip, the unnamed statement the first one parsed: outside a transaction
// PgBouncer may route the two to different servers.)
const BouncerExecMode = "cache_describe"

// BouncerOptions configure a Bouncer.
type BouncerOptions struct {
	// PoolSize is the number of server connections PgBouncer may open to
	// the database (default_pool_size and max_db_connections); 0 means 1,
	// so that every client's transactions share one server connection.
	PoolSize int
}

// Bouncer is a PgBouncer in transaction pooling mode in front of one test
// database, run as Debian's pgbouncer would be in production: clients
// authenticate with the app role's password, and PgBouncer logs in to
// PostgreSQL with it over TCP.
type Bouncer struct {
	// AppURL connects as quire_app through PgBouncer with BouncerExecMode.
	AppURL string
	// ConsoleURL connects as quire_app to PgBouncer's console (database
	// pgbouncer), where SHOW SERVERS, SHOW POOLS and the like answer; it
	// speaks the simple protocol only.
	ConsoleURL string
	// PoolSize is the server connections PgBouncer may open.
	PoolSize int

	db   string
	port int
	cmd  *exec.Cmd
	dir  string
	log  *lockedBuffer
	done chan struct{} // closed when the process has exited
}

// URL is AppURL with another pgx query exec mode ("" for pgx's default).
func (b *Bouncer) URL(execMode string) string {
	u := url.URL{
		Scheme: "postgres",
		User:   url.UserPassword(pgcluster.AppRole, appPassword),
		Host:   net.JoinHostPort("127.0.0.1", strconv.Itoa(b.port)),
		Path:   "/" + b.db,
	}
	q := url.Values{"sslmode": {"disable"}}
	if execMode != "" {
		q.Set("default_query_exec_mode", execMode)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Log is what PgBouncer has logged so far.
func (b *Bouncer) Log() string { return b.log.String() }

// Bouncer starts a PgBouncer in transaction mode in front of db, on a free
// port, and stops it when t ends. Running as root, it runs PgBouncer as the
// postgres user: PgBouncer refuses to run as root. A missing pgbouncer fails
// the test, as a missing PostgreSQL does: a skipped test passes silently.
func (db *DB) Bouncer(t testing.TB, opts BouncerOptions) *Bouncer {
	t.Helper()
	bin, err := findPgBouncer()
	if err != nil {
		t.Fatal(err)
	}
	server, err := pgconn.ParseConfig(db.AppURL)
	if err != nil {
		t.Fatal(err)
	}
	size := max(opts.PoolSize, 1)
	// A port taken between finding it free and PgBouncer binding it makes
	// PgBouncer exit; another port is tried.
	var errs []error
	for range 3 {
		b, err := startBouncer(bin, db.Name, server.Host, int(server.Port), size)
		if err == nil {
			t.Cleanup(func() {
				if err := b.stop(); err != nil {
					t.Errorf("stop pgbouncer: %v", err)
				}
				if t.Failed() {
					t.Logf("pgbouncer log:\n%s", b.Log())
				}
			})
			return b
		}
		errs = append(errs, err)
	}
	t.Fatalf("start pgbouncer: %v", errors.Join(errs...))
	return nil
}

func findPgBouncer() (string, error) {
	if p, err := exec.LookPath("pgbouncer"); err == nil {
		return p, nil
	}
	// Debian installs it in /usr/sbin, which a non-root PATH often lacks.
	if fi, err := os.Stat("/usr/sbin/pgbouncer"); err == nil && !fi.IsDir() {
		return "/usr/sbin/pgbouncer", nil
	}
	return "", errors.New("pgbouncer not found (looked at PATH and /usr/sbin): " +
		"install it with `apt-get install -y pgbouncer` (or `brew install pgbouncer` on macOS)")
}

// bouncerConfig is pgbouncer.ini. server_reset_query is left at its default:
// in transaction mode PgBouncer does not run it (server_reset_query_always
// is off), so nothing but the application's own discipline keeps one
// client's settings from the next; the tests rely on exactly that.
const bouncerConfig = `[databases]
%[1]s = host=%[2]s port=%[3]d dbname=%[1]s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %[4]d
unix_socket_dir =
auth_type = scram-sha-256
auth_file = %[5]s
pool_mode = transaction
default_pool_size = %[6]d
max_db_connections = %[6]d
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 200
stats_users = %[7]s
query_wait_timeout = 20
; The app pool sends its timeouts as startup parameters, which PgBouncer
; refuses unless told to ignore them (docs/deployment.md).
ignore_startup_parameters = statement_timeout,idle_in_transaction_session_timeout
log_connections = 0
log_disconnections = 0
`

func startBouncer(bin, dbname, host string, port, size int) (*Bouncer, error) {
	if strings.HasPrefix(host, "/") {
		// roleURL turns socket URLs into TCP; should that change, say so.
		return nil, fmt.Errorf("pgbouncer needs a TCP address of the server, got socket %s", host)
	}
	listen, err := freeTCPPort()
	if err != nil {
		return nil, err
	}
	owner, err := bouncerUser()
	if err != nil {
		return nil, err
	}
	// /tmp, as for the cluster: the postgres user must be able to enter it.
	dir, err := os.MkdirTemp("/tmp", "quire-pgbouncer-")
	if err != nil {
		return nil, err
	}
	b := &Bouncer{
		PoolSize: size, db: dbname, port: listen, dir: dir,
		log: &lockedBuffer{}, done: make(chan struct{}),
	}
	b.AppURL = b.URL(BouncerExecMode)
	console := url.URL{Scheme: "postgres", User: url.UserPassword(pgcluster.AppRole, appPassword),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(listen)), Path: "/pgbouncer", RawQuery: "sslmode=disable&default_query_exec_mode=simple_protocol"}
	b.ConsoleURL = console.String()

	users := filepath.Join(dir, "userlist.txt")
	ini := filepath.Join(dir, "pgbouncer.ini")
	files := map[string]string{
		users: fmt.Sprintf("%q %q\n", pgcluster.AppRole, appPassword),
		ini:   fmt.Sprintf(bouncerConfig, dbname, host, port, listen, users, size, pgcluster.AppRole),
	}
	for path, content := range files {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	for _, path := range []string{dir, users, ini} {
		if err := owner.chown(path); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}

	b.cmd = exec.Command(bin, ini)
	b.cmd.Dir = dir
	b.cmd.SysProcAttr = &syscall.SysProcAttr{
		// Should the test binary die, PgBouncer goes with it.
		Pdeathsig: syscall.SIGKILL,
		// A terminal's Ctrl-C reaches us, and we stop it.
		Setpgid: true,
	}
	if owner != nil {
		b.cmd.SysProcAttr.Credential = &syscall.Credential{Uid: owner.uid, Gid: owner.gid}
	}
	stderr, err := b.cmd.StderrPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := b.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	up := make(chan struct{})
	go func() {
		// Wait closes the pipe, so only after the log's EOF (the exit).
		b.readLog(stderr, up)
		_ = b.cmd.Wait()
		close(b.done)
	}()
	// PgBouncer logs "process up" once it listens: nothing to poll.
	select {
	case <-up:
		return b, nil
	case <-b.done:
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgbouncer exited at start-up (%v):\n%s", b.cmd.ProcessState, b.Log())
	case <-time.After(30 * time.Second):
		_ = b.stop()
		return nil, fmt.Errorf("pgbouncer did not start within 30s:\n%s", b.Log())
	}
}

// readLog copies PgBouncer's log into b.log and closes up at the line saying
// it is ready.
func (b *Bouncer) readLog(r io.Reader, up chan<- struct{}) {
	sc := bufio.NewScanner(r)
	ready := false
	for sc.Scan() {
		line := sc.Text()
		b.log.WriteLine(line)
		if !ready && strings.Contains(line, "process up:") {
			ready = true
			close(up)
		}
	}
}

// stop ends PgBouncer at once (SIGTERM: it closes every connection without
// waiting for them) and removes its directory.
func (b *Bouncer) stop() error {
	err := b.cmd.Process.Signal(syscall.SIGTERM)
	if errors.Is(err, os.ErrProcessDone) {
		err = nil
	}
	select {
	case <-b.done:
	case <-time.After(30 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.done
		err = errors.Join(err, errors.New("pgbouncer ignored SIGTERM for 30s"))
	}
	return errors.Join(err, os.RemoveAll(b.dir))
}

func freeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// osAccount is the account PgBouncer runs as when we are root (it refuses
// to run as root); nil means ourselves. pgcluster does the same for
// PostgreSQL.
type osAccount struct{ uid, gid uint32 }

func bouncerUser() (*osAccount, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, pgbouncer must run as the postgres user: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("postgres user: %w", err)
	}
	return &osAccount{uid: uint32(uid), gid: uint32(gid)}, nil
}

func (a *osAccount) chown(path string) error {
	if a == nil {
		return nil
	}
	return os.Lchown(path, int(a.uid), int(a.gid))
}

// lockedBuffer collects log lines from one goroutine for others to read.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) WriteLine(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s)
	l.b.WriteByte('\n')
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
