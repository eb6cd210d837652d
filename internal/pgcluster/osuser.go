package pgcluster

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// serverUser is the OS account the PostgreSQL programs run as when this
// process is root: PostgreSQL refuses to run as root. A nil *serverUser means
// "run as ourselves".
type serverUser struct {
	uid, gid uint32
	groups   []uint32
}

// lookupServerUser returns the postgres account when running as root, nil
// otherwise.
func lookupServerUser() (*serverUser, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL must run as the postgres user: %w", err)
	}
	s := &serverUser{uid: atou32(u.Uid), gid: atou32(u.Gid)}
	ids, _ := u.GroupIds()
	for _, id := range ids {
		s.groups = append(s.groups, atou32(id))
	}
	return s, nil
}

func atou32(s string) uint32 {
	n, _ := strconv.ParseUint(s, 10, 32)
	return uint32(n)
}

// chown gives path to the server user; a no-op when we are not root.
func (s *serverUser) chown(path string) error {
	if s == nil {
		return nil
	}
	if err := os.Lchown(path, int(s.uid), int(s.gid)); err != nil {
		return fmt.Errorf("chown %s to postgres: %w", path, err)
	}
	return nil
}

// checkCanEnter fails, naming the directory, when the server user cannot
// traverse one of dir's ancestors: /root is mode 700, so a data directory
// under it works for root but not for the postgres processes.
func (s *serverUser) checkCanEnter(dir string) error {
	if s == nil {
		return nil
	}
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("check data directory: %w", err)
		}
		if !s.canSearch(fi) {
			return fmt.Errorf("the postgres user cannot enter %s (mode %04o), so it cannot reach %s: "+
				"set QUIRE_DATA_DIR to a directory outside it, such as /var/tmp/quire", d, fi.Mode().Perm(), dir)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// canSearch applies the owner/group/other execute bit that the kernel would
// check for the server user.
func (s *serverUser) canSearch(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	perm := fi.Mode().Perm()
	switch {
	case st.Uid == s.uid:
		return perm&0o100 != 0
	case st.Gid == s.gid || slices.Contains(s.groups, st.Gid):
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

// command prepares a PostgreSQL program to run as the server user, in dir
// (our own working directory may be one the server user cannot enter), with
// no PG* variables that could point it at another cluster.
func (s *serverUser) command(ctx context.Context, dir, path string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if s != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: s.uid, Gid: s.gid, Groups: s.groups}
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	// pg_ctl start leaves the postmaster running with its output redirected
	// to the log file; should anything still hold our pipes, do not hang.
	cmd.WaitDelay = 5 * time.Second
	return cmd
}
