package mail

import (
	"context"
	"log/slog"
)

// NewLog returns the development Mailer: it logs each message at Info as "mail (development): open
// the link to continue" with attributes to, kind, subject and link, so a newcomer can sign in from
// the terminal without a mail server.
//
// This is the only place in Quire where a token may be logged. Never wire it in production: there,
// anyone who can read the log could sign in as the recipient.
func NewLog(logger *slog.Logger) Mailer { return logMailer{logger: logger} }

type logMailer struct{ logger *slog.Logger }

func (l logMailer) Send(ctx context.Context, m Message) error {
	if err := m.validate(); err != nil {
		return err
	}
	l.logger.InfoContext(ctx, "mail (development): open the link to continue",
		slog.String("to", m.To),
		slog.String("kind", m.Kind),
		slog.String("subject", m.Subject),
		slog.String("link", m.Link),
	)
	return nil
}
