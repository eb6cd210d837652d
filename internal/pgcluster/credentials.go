package pgcluster

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// credentials are the development roles' passwords, generated once.
type credentials struct {
	OwnerPassword string `json:"owner_password"`
	AppPassword   string `json:"app_password"`
}

// loadCredentials reads dir/credentials.json, creating it (mode 0600) on
// first use.
func loadCredentials(dir string) (credentials, error) {
	path := filepath.Join(dir, "credentials.json")
	var cred credentials
	b, err := os.ReadFile(path)
	if err == nil {
		if err := json.Unmarshal(b, &cred); err != nil || cred.OwnerPassword == "" || cred.AppPassword == "" {
			return credentials{}, fmt.Errorf("read %s: not the credentials Quire wrote (delete it to start over)", path)
		}
		return cred, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return credentials{}, fmt.Errorf("read credentials: %w", err)
	}
	cred = credentials{OwnerPassword: randomHex(), AppPassword: randomHex()}
	if err := writeOnce(path, cred); errors.Is(err, fs.ErrExist) {
		return loadCredentials(dir) // another process wrote it first
	} else if err != nil {
		return credentials{}, err
	}
	return cred, nil
}

// writeOnce writes cred to a temporary file and links it to path, which fails
// with fs.ErrExist rather than replace a file another process just wrote.
func writeOnce(path string, cred credentials) error {
	b, err := json.MarshalIndent(cred, "", "  ")
	if err != nil {
		return fmt.Errorf("write credentials: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".credentials-*") // mode 0600
	if err != nil {
		return fmt.Errorf("write credentials: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write credentials: %w", err)
	}
	if err := os.Link(f.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("write credentials: %w", err)
	}
	return nil
}

func randomHex() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b)
}
