package pgcluster

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// maxSocketPath is the longest unix socket path Linux accepts: sun_path is
// 108 bytes including the terminating NUL.
const maxSocketPath = 107

// socketDir is where the unix socket lives: dir itself when the socket path
// fits, else a short directory under the temporary directory named by a hash
// of dir, so every process opening dir finds the same one.
func socketDir(dir string, u *serverUser) (string, error) {
	if len(dir)+len("/.s.PGSQL.65535") <= maxSocketPath {
		return dir, nil
	}
	sum := sha256.Sum256([]byte(dir))
	d := filepath.Join(os.TempDir(), "quire-pg-"+hex.EncodeToString(sum[:6]))
	if len(d)+len("/.s.PGSQL.65535") > maxSocketPath {
		return "", fmt.Errorf("socket path in %s and in %s is longer than %d bytes: use a shorter data directory", dir, d, maxSocketPath)
	}
	if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("create socket directory: %w", err)
	}
	// The temporary directory is shared: trust a directory that was already
	// there only if it is a real directory that belongs to us or to postgres.
	fi, err := os.Lstat(d)
	if err != nil {
		return "", fmt.Errorf("create socket directory: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || !ok || !ownedBy(st.Uid, u) {
		return "", fmt.Errorf("socket directory %s exists and belongs to someone else", d)
	}
	if err := os.Chmod(d, 0o700); err != nil {
		return "", fmt.Errorf("create socket directory: %w", err)
	}
	return d, u.chown(d)
}

func ownedBy(uid uint32, u *serverUser) bool {
	return int(uid) == os.Geteuid() || (u != nil && uid == u.uid)
}
