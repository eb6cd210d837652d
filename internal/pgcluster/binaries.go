package pgcluster

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// FindBinaries returns the directory holding the PostgreSQL server programs
// (initdb, pg_ctl, postgres). It asks pg_config --bindir first, then looks for
// initdb on PATH, then takes the highest version under /usr/lib/postgresql.
// When none is found, the error names the command that installs them.
func FindBinaries() (dir string, err error) {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if d := strings.TrimSpace(string(out)); hasServer(d) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		// PATH often holds symlinks (Debian's /usr/local/bin/initdb); pg_ctl
		// must sit beside the real initdb, so resolve them.
		if real, err := filepath.EvalSymlinks(p); err == nil && hasServer(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
	}
	if d := newestDebianBinDir(); d != "" {
		return d, nil
	}
	return "", errors.New("PostgreSQL server not found (looked at pg_config --bindir, PATH and /usr/lib/postgresql/*/bin): " +
		"install it with `apt-get install -y postgresql` (or `brew install postgresql` on macOS)")
}

// hasServer reports whether dir holds the programs a cluster needs.
func hasServer(dir string) bool {
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.IsDir() {
			return false
		}
	}
	return true
}

// newestDebianBinDir returns the bin directory of the highest major version
// installed by Debian's postgresql packages, or "".
func newestDebianBinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(d string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(d)), 64)
		return v
	}
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if hasServer(d) {
			return d
		}
	}
	return ""
}
