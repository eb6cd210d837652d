package config_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/quirehq/quire/internal/config"
)

func TestDevSecretCreatesOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	first, err := config.DevSecret(dir)
	if err != nil {
		t.Fatalf("first DevSecret: %v", err)
	}
	if len(first) != 32 {
		t.Errorf("key is %d bytes, want 32", len(first))
	}
	second, err := config.DevSecret(dir)
	if err != nil {
		t.Fatalf("second DevSecret: %v", err)
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("second key differs (-first +second):\n%s", diff)
	}
	modes := map[string]fs.FileMode{}
	for _, p := range []string{dir, filepath.Join(dir, "jwt-secret")} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		modes[filepath.Base(p)] = fi.Mode().Perm()
	}
	if diff := cmp.Diff(map[string]fs.FileMode{"data": 0o700, "jwt-secret": 0o600}, modes); diff != "" {
		t.Errorf("modes (-want +got):\n%s", diff)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("data dir holds %d entries, want only jwt-secret (no temporary files left)", len(entries))
	}
}

func TestDevSecretConcurrentFirstUse(t *testing.T) {
	dir := t.TempDir()
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := config.DevSecret(dir)
			if err != nil {
				t.Errorf("DevSecret: %v", err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for i, k := range keys {
		if !bytes.Equal(k, keys[0]) || len(k) != 32 {
			t.Errorf("process %d got a different key than process 0", i)
		}
	}
}

func TestDevSecretRejectsBadFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
	}{
		{"empty", ""},
		{"not hex", "this is not hex at all, not even close, no no no no no no no no no!!\n"},
		{"too short", "00112233445566778899aabbccddeeff\n"},
		{"too long", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00\n"},
		{"odd length", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeef\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "jwt-secret")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if key, err := config.DevSecret(dir); err == nil {
				t.Fatalf("DevSecret = %x, want an error", key)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.content, string(got)); diff != "" {
				t.Errorf("file was replaced (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDevSecretReadsExistingFile(t *testing.T) {
	dir := t.TempDir()
	const content = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
	if err := os.WriteFile(filepath.Join(dir, "jwt-secret"), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := config.DevSecret(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 32)
	for i := range want {
		want[i] = byte(i)
	}
	if diff := cmp.Diff(want, key); diff != "" {
		t.Errorf("key (-want +got):\n%s", diff)
	}
}
