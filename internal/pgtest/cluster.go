package pgtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"

	"github.com/quirehq/quire/internal/pgcluster"
)

// Cluster is a throwaway PostgreSQL cluster: a temporary directory, a free
// port, fsync off. Close stops it and removes the directory; should the
// process die first (a panicking test, a -timeout, SIGKILL), a small reaper
// process does both.
type Cluster struct {
	dir      string
	pg       *pgcluster.Cluster
	reaper   *exec.Cmd
	lifeline io.WriteCloser
}

// StartCluster creates and starts a throwaway cluster.
func StartCluster(ctx context.Context) (*Cluster, error) {
	// /tmp, not t.TempDir or $TMPDIR: every directory above the cluster must
	// be enterable by the postgres user when we run as root.
	dir, err := os.MkdirTemp("/tmp", "quire-pgtest-")
	if err != nil {
		return nil, fmt.Errorf("start test cluster: %w", err)
	}
	c := &Cluster{dir: dir}
	if err := c.startReaper(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	c.pg, err = pgcluster.Open(ctx, pgcluster.Options{Dir: dir})
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// SuperuserURL is the URL of database postgres as the superuser.
func (c *Cluster) SuperuserURL() string { return c.pg.SuperuserURL("postgres") }

// Close stops the cluster and removes its directory.
func (c *Cluster) Close() error {
	var errs []error
	if c.pg != nil {
		errs = append(errs, c.pg.Stop())
	}
	errs = append(errs, os.RemoveAll(c.dir))
	// The reaper finds nothing left to do and exits.
	c.lifeline.Close()
	errs = append(errs, c.reaper.Wait())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("remove test cluster: %w", err)
	}
	return nil
}

// reapScript waits for EOF on stdin, which comes when we close the pipe or
// when we die, then makes a fast shutdown of the postmaster (root may signal
// the postgres user's processes) and removes the directory.
const reapScript = `cat >/dev/null
pidfile="$1/pgdata/postmaster.pid"
if [ -f "$pidfile" ] && pid=$(head -n 1 "$pidfile") && kill -INT "$pid" 2>/dev/null; then
	i=0
	while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 600 ]; do sleep 0.1; i=$((i+1)); done
fi
rm -rf "$1"
`

func (c *Cluster) startReaper() error {
	cmd := exec.Command("/bin/sh", "-c", reapScript, "pgtest-reaper", c.dir)
	// Its own process group, so that a terminal's Ctrl-C, which kills us,
	// leaves it alive to clean up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	w, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("start cluster reaper: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start cluster reaper: %w", err)
	}
	c.reaper, c.lifeline = cmd, w
	return nil
}
