package mail_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	qmail "github.com/quirehq/quire/internal/mail"
)

// session is what the fake server saw of one SMTP dialogue.
type session struct {
	Auth string   // decoded AUTH PLAIN response, "\x00user\x00pass"
	From string   // MAIL FROM argument
	Rcpt []string // RCPT TO arguments
	Data string   // the raw DATA, CRLFs kept, without the final "."
}

// fakeSMTP is a one-connection SMTP server speaking the minimal dialogue net/smtp needs.
type fakeSMTP struct {
	ln       net.Listener
	accepted chan struct{} // closed once a client connects
	done     chan struct{} // closed when the server goroutine ends
	got      *session      // nil if no client connected; read only after done
}

// startFakeSMTP listens on 127.0.0.1:0. A silent server accepts and then never answers.
func startFakeSMTP(t testing.TB, silent bool) *fakeSMTP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSMTP{ln: ln, accepted: make(chan struct{}), done: make(chan struct{})}
	t.Cleanup(func() { ln.Close(); <-f.done })
	go func() {
		defer close(f.done)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		f.got = &session{}
		close(f.accepted)
		if silent {
			_, _ = io.Copy(io.Discard, conn) // until the client gives up
			return
		}
		if err := f.serve(textproto.NewConn(conn)); err != nil {
			t.Errorf("fake smtp: %v", err)
		}
	}()
	return f
}

func (f *fakeSMTP) serve(c *textproto.Conn) error {
	reply := func(line string) error { return c.PrintfLine("%s", line) }
	if err := reply("220 fake ESMTP"); err != nil {
		return err
	}
	for {
		line, err := c.ReadLine()
		if err != nil {
			return err
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			err = reply("250-fake\r\n250 AUTH PLAIN")
		case "AUTH":
			b, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(arg, "PLAIN "))
			f.got.Auth = string(b)
			err = reply("235 2.7.0 accepted")
		case "MAIL":
			f.got.From = arg
			err = reply("250 ok")
		case "RCPT":
			f.got.Rcpt = append(f.got.Rcpt, arg)
			err = reply("250 ok")
		case "DATA":
			if err = reply("354 go ahead"); err == nil {
				f.got.Data, err = readData(c)
			}
			if err == nil {
				err = reply("250 queued")
			}
		case "QUIT":
			return reply("221 bye")
		default:
			err = reply("502 not implemented")
		}
		if err != nil {
			return err
		}
	}
}

// readData reads raw lines up to the lone ".", keeping CRLFs so the test can check them.
func readData(c *textproto.Conn) (string, error) {
	var b strings.Builder
	for {
		line, err := c.R.ReadString('\n')
		if err != nil {
			return "", err
		}
		if line == ".\r\n" {
			return b.String(), nil
		}
		b.WriteString(strings.TrimPrefix(line, ".")) // undo dot-stuffing
	}
}

func TestSMTPDelivers(t *testing.T) {
	long := strings.Repeat("x", 1200)
	tests := []struct {
		name         string
		userinfo     string
		subject      string
		text         string // "" keeps loginMessage's
		wantAuth     string
		wantEncoding string
	}{
		{"no auth", "", "Sign in to Quire", "", "", "7bit"},
		{"PLAIN auth to localhost", "mailer:p%40ss@", "Sign in to Quire", "", "\x00mailer\x00p@ss", "7bit"},
		{"non-ASCII subject", "", "Join Zoë’s notes — Acme", "", "", "7bit"},
		{"non-ASCII body", "", "Sign in", "Zoë invited you:\r\nhttps://x.example/invite?token=" + token, "", "quoted-printable"},
		{"line longer than SMTP allows", "", "Sign in", long + "\n", "", "quoted-printable"},
		{"leading dots", "", "Sign in", ".\n..hidden\n.", "", "7bit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startFakeSMTP(t, false)
			m, err := qmail.NewSMTP("smtp://"+tc.userinfo+srv.ln.Addr().String(), "Quire <no-reply@notes.example.com>")
			if err != nil {
				t.Fatal(err)
			}
			msg := loginMessage()
			msg.Subject = tc.subject
			if tc.text != "" {
				msg.Text = tc.text
			}
			if err := m.Send(t.Context(), msg); err != nil {
				t.Fatalf("Send: %v", err)
			}
			<-srv.done
			got := srv.got
			if diff := cmp.Diff(session{Auth: tc.wantAuth, From: "FROM:<no-reply@notes.example.com>", Rcpt: []string{"TO:<ada@example.com>"}}, *got,
				cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Data" }, cmp.Ignore())); diff != "" {
				t.Errorf("envelope (-want +got):\n%s", diff)
			}
			checkMessage(t, got.Data, msg, tc.wantEncoding)
		})
	}
}

// checkMessage parses raw as RFC 5322 and compares it with what msg asked for.
func checkMessage(t *testing.T, raw string, msg qmail.Message, encoding string) {
	t.Helper()
	if bare := regexp.MustCompile(`[^\r]\n`).FindStringIndex(raw); bare != nil {
		t.Errorf("line ending without CR at byte %d of:\n%q", bare[0], raw)
	}
	parsed, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatalf("parse message: %v\n%s", err, raw)
	}
	h := parsed.Header
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil {
		t.Fatalf("decode subject %q: %v", h.Get("Subject"), err)
	}
	if _, err := h.Date(); err != nil {
		t.Errorf("Date %q: %v", h.Get("Date"), err)
	}
	if !regexp.MustCompile(`^<[0-9a-f]{32}@notes\.example\.com>$`).MatchString(h.Get("Message-ID")) {
		t.Errorf("Message-ID %q", h.Get("Message-ID"))
	}
	gotHeaders := map[string]string{
		"From": h.Get("From"), "To": h.Get("To"), "Subject": subject, "MIME-Version": h.Get("MIME-Version"),
		"Content-Type": h.Get("Content-Type"), "Content-Transfer-Encoding": h.Get("Content-Transfer-Encoding"),
	}
	wantHeaders := map[string]string{
		"From": `"Quire" <no-reply@notes.example.com>`, "To": "<ada@example.com>", "Subject": msg.Subject,
		"MIME-Version": "1.0", "Content-Type": "text/plain; charset=utf-8", "Content-Transfer-Encoding": encoding,
	}
	if diff := cmp.Diff(wantHeaders, gotHeaders); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	checkBody(t, raw, parsed.Body, msg, encoding)
}

// checkBody decodes body per encoding and compares it with msg.Text.
func checkBody(t *testing.T, raw string, body io.Reader, msg qmail.Message, encoding string) {
	t.Helper()
	r := body
	if encoding == "quoted-printable" {
		r = quotedprintable.NewReader(r)
	} else if !strings.Contains(raw, msg.Link) && strings.Contains(msg.Text, msg.Link) {
		t.Errorf("raw %s message lacks the verbatim link %s", encoding, msg.Link)
	}
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	// Line breaks become CRLF and the body ends with one.
	want := strings.ReplaceAll(msg.Text, "\r\n", "\n")
	if !strings.HasSuffix(want, "\n") {
		want += "\n"
	}
	if diff := cmp.Diff(want, strings.ReplaceAll(string(got), "\r\n", "\n")); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

func TestSMTPRefusesHeaderInjection(t *testing.T) {
	tests := []struct {
		name   string
		change func(m *qmail.Message)
	}{
		{"CRLF in subject", func(m *qmail.Message) { m.Subject = "Sign in\r\nBcc: eve@example.com" }},
		{"LF in subject", func(m *qmail.Message) { m.Subject = "Sign in\nBcc: eve@example.com" }},
		{"CR in recipient", func(m *qmail.Message) { m.To = "ada@example.com\rBcc: eve@example.com" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startFakeSMTP(t, false)
			m, err := qmail.NewSMTP("smtp://"+srv.ln.Addr().String(), "no-reply@notes.example.com")
			if err != nil {
				t.Fatal(err)
			}
			msg := loginMessage()
			tc.change(&msg)
			if err := m.Send(t.Context(), msg); err == nil {
				t.Error("Send succeeded, want an error")
			}
			srv.ln.Close()
			<-srv.done
			if srv.got != nil {
				t.Errorf("the server was contacted: %+v", srv.got)
			}
		})
	}
}

func TestSMTPStopsWhenContextEnds(t *testing.T) {
	srv := startFakeSMTP(t, true)
	m, err := qmail.NewSMTP("smtp://"+srv.ln.Addr().String(), "no-reply@notes.example.com")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-srv.accepted
		cancel()
	}()
	if err := m.Send(ctx, loginMessage()); !errors.Is(err, context.Canceled) {
		t.Errorf("Send = %v, want context.Canceled", err)
	}
}

func TestNewSMTPRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name, url, from string
	}{
		{"http scheme", "http://u:pw-SECRET@smtp.example.com:25", "no-reply@example.com"},
		{"no port", "smtp://u:pw-SECRET@smtp.example.com", "no-reply@example.com"},
		{"no host", "smtp://u:pw-SECRET@:25", "no-reply@example.com"},
		{"named port", "smtp://u:pw-SECRET@smtp.example.com:smtp", "no-reply@example.com"},
		{"sender not an address", "smtp://smtp.example.com:25", "Quire"},
		{"line break in sender", "smtp://smtp.example.com:25", "no-reply@example.com\r\nBcc: eve@example.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := qmail.NewSMTP(tc.url, tc.from)
			if err == nil {
				t.Fatal("NewSMTP succeeded, want an error")
			}
			if strings.Contains(err.Error(), "pw-SECRET") {
				t.Errorf("error %q contains the password", err)
			}
		})
	}
}
