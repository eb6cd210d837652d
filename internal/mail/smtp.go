package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// sendTimeout bounds one delivery, dial to QUIT, so a stuck mail server cannot hold a request.
const sendTimeout = 10 * time.Second

// NewSMTP returns a Mailer that delivers through the server in rawURL, smtp://user:pass@host:port
// or smtps://… for implicit TLS, with from as the From header and envelope sender. Over smtp:// it
// upgrades with STARTTLS when the server offers it; with a user it authenticates with PLAIN, which
// net/smtp refuses over an unencrypted connection except to localhost. Each Send takes at most 10 s.
// Errors never quote rawURL, which holds a password.
func NewSMTP(rawURL, from string) (Mailer, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "smtp" && u.Scheme != "smtps" || u.Hostname() == "" || u.Port() == "" {
		return nil, errors.New("smtp URL is not smtp://user:pass@host:port or smtps://user:pass@host:port")
	}
	sender, err := mail.ParseAddress(from)
	if err != nil || strings.ContainsAny(from, "\r\n") {
		return nil, fmt.Errorf("mail sender %q is not a mail address", from)
	}
	s := &smtpMailer{
		addr:        u.Host,
		host:        u.Hostname(),
		implicitTLS: u.Scheme == "smtps",
		from:        sender,
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}
	return s, nil
}

type smtpMailer struct {
	addr, host  string
	implicitTLS bool
	user, pass  string
	from        *mail.Address
}

func (s *smtpMailer) Send(ctx context.Context, m Message) error {
	if err := m.validate(); err != nil {
		return err
	}
	to, _ := mail.ParseAddress(m.To) // validate parsed it
	msg := s.compose(m, to, time.Now())

	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	conn, err := s.dial(ctx)
	if err != nil {
		return fmt.Errorf("connect to smtp server: %w", err)
	}
	// net/smtp has no context: the deadline bounds every read and write, and cancelling ctx moves
	// the deadline into the past, which unblocks whatever is waiting on the server.
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := s.deliver(conn, to.Address, msg); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = ctxErr
		}
		return fmt.Errorf("send mail over smtp: %w", err)
	}
	return nil
}

func (s *smtpMailer) dial(ctx context.Context) (net.Conn, error) {
	if s.implicitTLS {
		d := &tls.Dialer{Config: &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}}
		return d.DialContext(ctx, "tcp", s.addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", s.addr)
}

// deliver runs the dialogue of smtp.SendMail on conn: EHLO, STARTTLS when offered, AUTH, MAIL,
// RCPT, DATA, QUIT. It closes conn.
func (s *smtpMailer) deliver(conn net.Conn, rcpt string, msg []byte) error {
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok && !s.implicitTLS {
		if err := c.StartTLS(&tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}); err != nil {
			return err
		}
	}
	if s.user != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("smtp server does not offer AUTH")
		}
		if err := c.Auth(smtp.PlainAuth("", s.user, s.pass, s.host)); err != nil {
			return err
		}
	}
	if err := c.Mail(s.from.Address); err != nil {
		return err
	}
	if err := c.Rcpt(rcpt); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// compose builds an RFC 5322 message with CRLF line endings. m was validated, so no header holds a
// line break; non-ASCII in the subject and display names becomes RFC 2047 encoded words.
func (s *smtpMailer) compose(m Message, to *mail.Address, now time.Time) []byte {
	var b bytes.Buffer
	header := func(name, value string) { b.WriteString(name + ": " + value + "\r\n") }
	header("From", s.from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", "<"+randomHex(16)+"@"+domain(s.from.Address)+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	writeBody(&b, m.Text)
	return b.Bytes()
}

// writeBody writes the Content-Transfer-Encoding header, the blank line and text. Plain ASCII with
// short lines goes as is (7bit), so the link stays verbatim in the raw message for anyone reading
// it; anything else is quoted-printable, which any UTF-8 text and line length survive.
func writeBody(b *bytes.Buffer, text string) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	if sevenBit(text) {
		b.WriteString("Content-Transfer-Encoding: 7bit\r\n\r\n")
		b.WriteString(strings.ReplaceAll(text, "\n", "\r\n"))
		return
	}
	b.WriteString("Content-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(b) // writes every line break of text as CRLF
	_, _ = qp.Write([]byte(text))      // writes to a bytes.Buffer cannot fail
	_ = qp.Close()
}

// sevenBit reports whether text (with LF line breaks) may travel unencoded: RFC 5322 allows
// US-ASCII without NUL or lone CR, in lines of at most 998 octets.
func sevenBit(text string) bool {
	for line := range strings.SplitSeq(text, "\n") {
		if len(line) > 998 {
			return false
		}
		for i := 0; i < len(line); i++ {
			if c := line[i]; c == 0 || c == '\r' || c >= 0x80 {
				return false
			}
		}
	}
	return true
}

// domain returns the part of address after its last "@".
func domain(address string) string {
	return address[strings.LastIndex(address, "@")+1:]
}
