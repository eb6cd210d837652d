package pgcluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSocketDir(t *testing.T) {
	short := "/tmp/quire"
	got, err := socketDir(short, nil)
	if err != nil || got != short {
		t.Errorf("socketDir(%s) = %q, %v; want the directory itself", short, got, err)
	}

	long := "/tmp/" + strings.Repeat("d", maxSocketPath)
	got, err = socketDir(long, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(got) })
	if !strings.HasPrefix(got, os.TempDir()) || len(got)+len("/.s.PGSQL.65535") > maxSocketPath {
		t.Errorf("socketDir(long) = %q, want a short directory under %s", got, os.TempDir())
	}
	if again, _ := socketDir(long, nil); again != got {
		t.Errorf("socketDir(long) = %q then %q, want the same directory", got, again)
	}
	if fi, err := os.Stat(got); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o700 {
		t.Errorf("socket directory %s has mode %v, want 0700", got, fi.Mode().Perm())
	}
	if filepath.Dir(got) != filepath.Clean(os.TempDir()) {
		t.Errorf("socket directory %s not directly under %s", got, os.TempDir())
	}
}
