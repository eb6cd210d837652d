package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// NewDir returns a Mailer that writes each message into dir as one JSON file,
// {"to", "subject", "kind", "link", "text"}, named "<unix-nanos>-<kind>-<8 random hex>.json" with
// mode 0600. It creates dir (0700) if needed. A file appears whole or not at all: it is written
// under a temporary name that does not end in .json and then renamed, so a reader polling the
// directory never sees half a message.
func NewDir(dir string) (Mailer, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create mail dir: %w", err)
	}
	return dirMailer{dir: dir}, nil
}

type dirMailer struct{ dir string }

// dirFile is the file format; its field names are part of the API (API.md, QUIRE_MAIL_DIR).
type dirFile struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Kind    string `json:"kind"`
	Link    string `json:"link"`
	Text    string `json:"text"`
}

func (d dirMailer) Send(ctx context.Context, m Message) error {
	if err := m.validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep "&" in links readable for shell tools that grep the file
	enc.SetIndent("", "  ")
	if err := enc.Encode(dirFile{To: m.To, Subject: m.Subject, Kind: m.Kind, Link: m.Link, Text: m.Text}); err != nil {
		return fmt.Errorf("encode mail: %w", err)
	}
	name := fmt.Sprintf("%d-%s-%s.json", time.Now().UnixNano(), m.Kind, randomHex(4))
	if err := writeAtomic(d.dir, name, buf.Bytes()); err != nil {
		return fmt.Errorf("write mail to dir: %w", err)
	}
	return nil
}

// writeAtomic writes data to dir/name through a temporary file in the same directory (rename is
// atomic only within one file system). The temporary file is created with mode 0600.
func writeAtomic(dir, name string, data []byte) error {
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, name))
}

// randomHex returns n random bytes in hex. crypto/rand.Read never fails (it crashes the program
// instead), so there is no error to return.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
