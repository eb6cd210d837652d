// Package mail delivers Quire's outgoing mail: login links and invitations. The caller builds the
// text; a Mailer only delivers it, to an SMTP server (NewSMTP), to a directory of JSON files that
// tests and tools read (NewDir), or, in development only, to the log (NewLog).
//
// A Message's Link carries a single-use secret token. Only the development log mailer ever writes it
// to a log; everywhere else a Message logs as its recipient and kind.
package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
)

// The kinds of mail Quire sends.
const (
	KindLogin      = "login"
	KindInvitation = "invitation"
)

// Message is one outgoing mail. Link carries a secret token.
type Message struct {
	To      string // recipient address, "ada@example.com" or "Ada <ada@example.com>"
	Subject string
	Kind    string // KindLogin or KindInvitation
	Link    string // the link with the token; secret
	Text    string // the plain-text body, which contains Link; secret
}

const redacted = "[redacted]"

// LogValue implements slog.LogValuer: the recipient and kind, with Link and Text "[redacted]".
func (m Message) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("to", m.To),
		slog.String("kind", m.Kind),
		slog.String("link", redacted),
		slog.String("text", redacted),
	)
}

// String shows what LogValue shows, so formatting a Message with fmt cannot leak its token.
func (m Message) String() string { return m.LogValue().String() }

// validate checks what every Mailer relies on. Its errors quote neither the address nor the text.
func (m Message) validate() error {
	if m.Kind != KindLogin && m.Kind != KindInvitation {
		return fmt.Errorf("mail kind %q is not %q or %q", m.Kind, KindLogin, KindInvitation)
	}
	// A line break in a header field would let its content add headers (Bcc: …) to the mail.
	if strings.ContainsAny(m.To, "\r\n") || strings.ContainsAny(m.Subject, "\r\n") {
		return errors.New("mail recipient or subject contains a line break")
	}
	if _, err := mail.ParseAddress(m.To); err != nil {
		return errors.New("mail recipient is not a mail address")
	}
	return nil
}

// Mailer delivers one message. Send returns once the message is handed over (to the server, the
// file system or the log), or with an error.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// Multi returns a Mailer that sends each message through every one of ms, in order, even when one
// fails; its error joins the failures (errors.Join), nil when all succeed.
func Multi(ms ...Mailer) Mailer { return multi(ms) }

type multi []Mailer

func (ms multi) Send(ctx context.Context, m Message) error {
	var errs []error
	for _, mailer := range ms {
		if err := mailer.Send(ctx, m); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
