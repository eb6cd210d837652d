package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// ensureInitialized runs initdb unless the cluster exists. initdb writes to a
// sibling directory that is renamed into place, so an interrupted initdb never
// leaves a half-made pgdata that later starts would trip over.
func (c *Cluster) ensureInitialized(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(c.pgdata, "PG_VERSION")); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("init cluster: %w", err)
	}
	tmp := c.pgdata + ".init"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("init cluster: %w", err)
	}
	if err := c.initdb(ctx, tmp); err != nil {
		return err
	}
	if err := appendInclude(filepath.Join(tmp, "postgresql.conf")); err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	if err := c.writeSettings(tmp, port); err != nil {
		return err
	}
	if err := os.Rename(tmp, c.pgdata); err != nil {
		return fmt.Errorf("init cluster: %w", err)
	}
	c.log.Info("postgres cluster created", "dir", c.dir, "port", port)
	return nil
}

// initdb creates a cluster in dir, preferring the C.UTF-8 locale (sorting
// like C, classifying characters like UTF-8) where the system has it.
func (c *Cluster) initdb(ctx context.Context, dir string) error {
	var out []byte
	var err error
	for _, locale := range []string{"C.UTF-8", "C"} {
		args := []string{"-D", dir, "-U", "postgres", "-E", "UTF8", "--locale=" + locale,
			"--auth-local=trust", "--auth-host=scram-sha-256"}
		if !c.fsync {
			args = append(args, "--no-sync")
		}
		out, err = c.user.command(ctx, c.dir, filepath.Join(c.bin, "initdb"), args...).CombinedOutput()
		if err == nil {
			return nil
		}
		os.RemoveAll(dir)
	}
	return fmt.Errorf("initdb: %w: %s", err, bytes.TrimSpace(out))
}

// settingsFile holds the settings Quire owns. postgresql.conf includes it;
// the process that starts the cluster rewrites it, so a moved data directory
// or a changed port takes effect.
const settingsFile = "quire.conf"

func appendInclude(conf string) error {
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("configure cluster: %w", err)
	}
	_, err = fmt.Fprintf(f, "\n# Written by Quire on every start.\ninclude_if_exists = '%s'\n", settingsFile)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("configure cluster: %w", err)
	}
	return nil
}

func (c *Cluster) writeSettings(pgdata string, port int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "listen_addresses = '127.0.0.1'\nport = %d\n", port)
	fmt.Fprintf(&b, "unix_socket_directories = '%s'\n", strings.ReplaceAll(c.sockDir, "'", "''"))
	b.WriteString("max_connections = 100\nshared_buffers = 128MB\n")
	if !c.fsync {
		b.WriteString("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
	}
	path := filepath.Join(pgdata, settingsFile)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("configure cluster: %w", err)
	}
	// Written by root, it must still be readable by the postgres user.
	return c.user.chown(path)
}

// rememberedPort reads the port from the settings file, 0 if there is none.
func (c *Cluster) rememberedPort() int {
	b, err := os.ReadFile(filepath.Join(c.pgdata, settingsFile))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "port" {
			p, _ := strconv.Atoi(strings.TrimSpace(v))
			return p
		}
	}
	return 0
}

func (c *Cluster) pgCtl(ctx context.Context, args ...string) *exec.Cmd {
	return c.user.command(ctx, c.dir, filepath.Join(c.bin, "pg_ctl"), args...)
}
