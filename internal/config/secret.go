package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// minSecretLen is the shortest QUIRE_JWT_SECRET accepted: HS256 wants a key as long as its hash.
const minSecretLen = 32

// placeholders are fragments of the example secrets people paste from documentation.
var placeholders = []string{
	"changeme", "change-me", "change_me", "changethis", "change-this", "change_this",
	"replaceme", "replace-me", "replace_me", "placeholder", "your-secret", "your_secret",
	"yoursecret", "insecure", "example",
}

// weakness says why s is unfit to sign production tokens, or returns "" if it is fine. The reason
// never quotes s.
func weakness(s string) string {
	lower := strings.ToLower(s)
	for _, p := range placeholders {
		if strings.Contains(lower, p) {
			return "it looks like a placeholder"
		}
	}
	if period := repeatPeriod(lower); period < len(lower) {
		return "it repeats a shorter pattern" // "secretsecret…", "abcabc…"
	}
	key := []byte(s)
	if isHex(s) {
		// A hex string draws from 16 symbols, so count the bytes it encodes instead: random
		// `openssl rand -hex 32` output often lacks one of the 16 digits.
		if len(s) < 2*minSecretLen {
			return fmt.Sprintf("a hex secret needs at least %d digits (%d bytes of key material)", 2*minSecretLen, minSecretLen)
		}
		key, _ = hex.DecodeString(s)
	}
	if distinct(key) < 16 {
		return "it has fewer than 16 distinct bytes"
	}
	return ""
}

// repeatPeriod returns the length of the shortest p such that s is p repeated (the last copy may be
// cut short), at least two whole copies; len(s) when there is none.
func repeatPeriod(s string) int {
	for p := 1; p <= len(s)/2; p++ {
		if s[p:] == s[:len(s)-p] {
			return p
		}
	}
	return len(s)
}

func isHex(s string) bool {
	if s == "" || len(s)%2 != 0 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func distinct(b []byte) int {
	var seen [256]bool
	n := 0
	for _, c := range b {
		if !seen[c] {
			seen[c], n = true, n+1
		}
	}
	return n
}

// devSecretFile holds the development signing key, hex-encoded, inside the data directory.
const devSecretFile = "jwt-secret"

// DevSecret returns the development JWT signing key stored in dir/jwt-secret: 32 random bytes, kept
// hex-encoded in the file. On first use it creates dir (0700) and the file (0600); afterwards it
// returns the same key, so sessions survive a restart. A file that does not hold 64 hex digits is an
// error: replacing it silently would sign everyone out and hide whatever damaged it.
func DevSecret(dir string) ([]byte, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	path := filepath.Join(dir, devSecretFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		return parseDevSecret(path, b)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read dev secret: %w", err)
	}
	return createDevSecret(dir, path)
}

// parseDevSecret decodes the file's content. The error does not quote it: it may be most of a key.
func parseDevSecret(path string, b []byte) ([]byte, error) {
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != minSecretLen {
		return nil, fmt.Errorf("dev secret %s: want %d hex digits; delete the file to generate a new key (this signs everyone out)", path, 2*minSecretLen)
	}
	return key, nil
}

// createDevSecret writes a fresh key to a temporary file and then links it into place. Unlike
// rename, link fails when the name exists, so when two processes start at once (serve and admin
// create-user) the loser adopts the winner's key instead of replacing it under a running server.
// Either way nobody ever reads half a file.
func createDevSecret(dir, path string) ([]byte, error) {
	key := make([]byte, minSecretLen)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate dev secret: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".jwt-secret-*") // CreateTemp opens with mode 0600
	if err != nil {
		return nil, fmt.Errorf("create dev secret: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(hex.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("write dev secret: %w", err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read dev secret: %w", err)
		}
		return parseDevSecret(path, b)
	} else if err != nil {
		return nil, fmt.Errorf("install dev secret: %w", err)
	}
	return key, nil
}
