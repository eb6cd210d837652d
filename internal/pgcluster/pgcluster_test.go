package pgcluster_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/quirehq/quire/internal/pgcluster"
)

// tempDir is a fresh directory under /tmp: t.TempDir nests it in a mode 0700
// parent that the postgres user could not enter when tests run as root.
func tempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "pgcluster-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func open(t testing.TB, dir string) *pgcluster.Cluster {
	t.Helper()
	c, err := pgcluster.Open(t.Context(), pgcluster.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	return c
}

func connect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func exec(t testing.TB, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(t.Context(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func TestOpenStopReopen(t *testing.T) {
	dir := tempDir(t)
	c, urls := createCluster(t, dir)

	// A second Open of a running cluster uses it and must not stop it.
	other := open(t, dir)
	if other.Started() {
		t.Error("Started() = true for a cluster another Open runs")
	}
	if err := other.Stop(); err != nil {
		t.Fatal(err)
	}
	checkRole(t, urls.App, pgcluster.AppRole)

	stopTwice(t, c)

	// Something else took the remembered port while the cluster was down.
	squatter, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port())))
	if err != nil {
		t.Fatal(err)
	}
	defer squatter.Close()

	again := open(t, dir)
	if !again.Started() || again.Port() == c.Port() {
		t.Errorf("reopened: Started() = %v, port %d; want true and not the taken port %d", again.Started(), again.Port(), c.Port())
	}
	urls2, err := again.EnsureDev(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.ReplaceAll(urls.Owner, strconv.Itoa(c.Port()), strconv.Itoa(again.Port())); urls2.Owner != want {
		t.Errorf("owner URL after restart = %s, want %s (same password, new port)", urls2.Owner, want)
	}
	var v int
	if err := connect(t, urls2.Owner).QueryRow(t.Context(), "SELECT v FROM kept").Scan(&v); err != nil || v != 42 {
		t.Fatalf("row written before the restart: v = %d, err = %v", v, err)
	}
}

// createCluster opens a cluster in the empty dir, checks the roles EnsureDev
// made and writes the row 42 into table kept as the owner.
func createCluster(t *testing.T, dir string) (*pgcluster.Cluster, pgcluster.DevURLs) {
	t.Helper()
	c := open(t, dir)
	if !c.Started() {
		t.Fatal("Started() = false for a cluster Open created")
	}
	urls, err := c.EnsureDev(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	checkRole(t, urls.App, pgcluster.AppRole)
	checkRole(t, urls.Owner, pgcluster.OwnerRole)
	owner := connect(t, urls.Owner)
	exec(t, owner, "CREATE TABLE kept (v int)")
	exec(t, owner, "INSERT INTO kept VALUES (42)")
	owner.Close(t.Context())
	return c, urls
}

func stopTwice(t *testing.T, c *pgcluster.Cluster) {
	t.Helper()
	for range 2 {
		if err := c.Stop(); err != nil {
			t.Fatalf("Stop: %v", err)
		}
	}
	if conn, err := pgx.Connect(t.Context(), c.SuperuserURL("postgres")); err == nil {
		conn.Close(t.Context())
		t.Fatal("cluster still accepts connections after Stop")
	}
}

// checkRole connects with url and requires the session to be role, with no
// superuser and no BYPASSRLS.
func checkRole(t *testing.T, url, role string) {
	t.Helper()
	var user string
	var super, bypass bool
	err := connect(t, url).QueryRow(t.Context(),
		"SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user").Scan(&user, &super, &bypass)
	if err != nil {
		t.Fatal(err)
	}
	if user != role || super || bypass {
		t.Errorf("connected as %s (superuser %v, bypassrls %v), want %s, no superuser, no bypassrls", user, super, bypass, role)
	}
}

func TestOpenRefusesUnreachableDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root runs PostgreSQL as another user")
	}
	blocked := tempDir(t) // mode 0700, owned by root
	dir := filepath.Join(blocked, "data")
	_, err := pgcluster.Open(t.Context(), pgcluster.Options{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), blocked) || !strings.Contains(err.Error(), "QUIRE_DATA_DIR") {
		t.Fatalf("Open(%s) = %v, want an error naming %s and QUIRE_DATA_DIR", dir, err, blocked)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("Open created %s although it refused it", dir)
	}
}

func TestFindBinaries(t *testing.T) {
	dir, err := pgcluster.FindBinaries()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
}
