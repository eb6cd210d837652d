package mail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/quirehq/quire/internal/mail"
)

const token = "tok_SECRET_7f3a9c"

func loginMessage() mail.Message {
	link := "https://notes.example.com/login?token=" + token
	return mail.Message{
		To:      "ada@example.com",
		Subject: "Sign in to Quire",
		Kind:    mail.KindLogin,
		Link:    link,
		Text:    "Hello,\n\nopen this link to sign in:\n" + link + "\n\nIt expires in 15 minutes.\n",
	}
}

func TestMessageLogValueHidesToken(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	logger.Info("sending", slog.Any("mail", loginMessage()))
	logger.Info("sending", "mail", loginMessage())
	out := buf.String() + fmt.Sprint(loginMessage()) + fmt.Sprintf("%+v", loginMessage())
	if strings.Contains(out, token) || strings.Contains(out, "open this link") {
		t.Errorf("output contains the link or text:\n%s", out)
	}
	var line struct {
		Mail map[string]string `json:"mail"`
	}
	if err := json.Unmarshal([]byte(strings.SplitN(buf.String(), "\n", 2)[0]), &line); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"to": "ada@example.com", "kind": "login", "link": "[redacted]", "text": "[redacted]"}
	if diff := cmp.Diff(want, line.Mail); diff != "" {
		t.Errorf("logged message (-want +got):\n%s", diff)
	}
}

func TestLogLogsLink(t *testing.T) {
	var buf bytes.Buffer
	m := mail.NewLog(slog.New(slog.NewJSONHandler(&buf, nil)))
	if err := m.Send(t.Context(), loginMessage()); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("log line %q: %v", buf.String(), err)
	}
	delete(got, "time")
	want := map[string]any{
		"level": "INFO", "msg": "mail (development): open the link to continue",
		"to": "ada@example.com", "kind": "login", "subject": "Sign in to Quire", "link": loginMessage().Link,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log line (-want +got):\n%s", diff)
	}
}

func TestDirWritesOneJSONFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	m, err := mail.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	msg := loginMessage()
	msg.Link += "&next=/notes" // an "&" must survive as is
	if err := m.Send(t.Context(), msg); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("outbox holds %d entries, want 1", len(entries))
	}
	name := entries[0].Name()
	if !regexp.MustCompile(`^[0-9]+-login-[0-9a-f]{8}\.json$`).MatchString(name) {
		t.Errorf("file name %q is not <unix-nanos>-login-<8 hex>.json", name)
	}
	if diff := cmp.Diff(map[string]fs.FileMode{"outbox": 0o700, name: 0o600}, modes(t, dir, filepath.Join(dir, name))); diff != "" {
		t.Errorf("modes (-want +got):\n%s", diff)
	}
	raw, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("file %s: %v", raw, err)
	}
	want := map[string]string{"to": msg.To, "subject": msg.Subject, "kind": "login", "link": msg.Link, "text": msg.Text}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("file content (-want +got):\n%s", diff)
	}
	if !strings.Contains(string(raw), "&next=") {
		t.Errorf("file escapes the link's \"&\":\n%s", raw)
	}
}

// modes maps the base name of each path to its permission bits.
func modes(t testing.TB, paths ...string) map[string]fs.FileMode {
	t.Helper()
	m := map[string]fs.FileMode{}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		m[filepath.Base(p)] = fi.Mode().Perm()
	}
	return m
}

func TestRejectsBadMessages(t *testing.T) {
	tests := []struct {
		name   string
		change func(m *mail.Message)
	}{
		{"line break in subject", func(m *mail.Message) { m.Subject = "Hi\r\nBcc: eve@example.com" }},
		{"newline in recipient", func(m *mail.Message) { m.To = "ada@example.com\nBcc: eve@example.com" }},
		{"recipient not an address", func(m *mail.Message) { m.To = "ada" }},
		{"unknown kind", func(m *mail.Message) { m.Kind = "../../etc/passwd" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := loginMessage()
			tc.change(&msg)
			dir := t.TempDir()
			var logged bytes.Buffer
			dirMailer, err := mail.NewDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range []mail.Mailer{dirMailer, mail.NewLog(slog.New(slog.NewTextHandler(&logged, nil)))} {
				if err := m.Send(t.Context(), msg); err == nil {
					t.Errorf("%T.Send succeeded, want an error", m)
				} else if strings.Contains(err.Error(), token) {
					t.Errorf("error %q contains the token", err)
				}
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 0 || logged.Len() != 0 {
				t.Errorf("sent anyway: %d files, log %q", len(entries), logged.String())
			}
		})
	}
}

// mailerFunc adapts a func to mail.Mailer.
type mailerFunc func(ctx context.Context, m mail.Message) error

func (f mailerFunc) Send(ctx context.Context, m mail.Message) error { return f(ctx, m) }

func TestMulti(t *testing.T) {
	errA, errB := errors.New("a failed"), errors.New("b failed")
	tests := []struct {
		name    string
		results []error // what each mailer returns
		want    []error // errors the joined error must match
	}{
		{"all succeed", []error{nil, nil, nil}, nil},
		{"first fails, the rest still send", []error{errA, nil, nil}, []error{errA}},
		{"two fail", []error{errA, nil, errB}, []error{errA, errB}},
		{"no mailers", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var calls []int
			var ms []mail.Mailer
			for i, result := range tc.results {
				ms = append(ms, mailerFunc(func(ctx context.Context, m mail.Message) error {
					calls = append(calls, i)
					return result
				}))
			}
			err := mail.Multi(ms...).Send(t.Context(), loginMessage())
			var wantCalls []int
			for i := range tc.results {
				wantCalls = append(wantCalls, i)
			}
			if diff := cmp.Diff(wantCalls, calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if (err == nil) != (len(tc.want) == 0) {
				t.Fatalf("Send = %v, want errors %v", err, tc.want)
			}
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("Send = %v, want it to match %v", err, w)
				}
			}
		})
	}
}
