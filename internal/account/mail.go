package account

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	mailer "github.com/quirehq/quire/internal/mail"
	"github.com/quirehq/quire/internal/requestid"
	"github.com/quirehq/quire/internal/store"
)

func loginMessage(to, link string) mailer.Message {
	return mailer.Message{
		To:      to,
		Subject: "Your Quire sign-in link",
		Kind:    "login",
		Link:    link,
		Text: "Open this link to sign in to Quire:\n\n" + link +
			"\n\nIt works once and expires in 15 minutes. If you did not ask for it, ignore this mail.\n",
	}
}

// recordMail writes the outbox row for m, without its link: the link
// carries a secret, and only hashes of secrets are stored.
func recordMail(ctx context.Context, q *store.Queries, m mailer.Message) (uuid.UUID, error) {
	id := uuid.Must(uuid.NewV7())
	err := q.CreateMail(ctx, store.CreateMailParams{ID: id, ToEmail: m.To, Kind: m.Kind, Subject: m.Subject})
	if err != nil {
		return uuid.Nil, fmt.Errorf("record mail: %w", err)
	}
	return id, nil
}

// DefaultRetryDelays are the waits between attempts to deliver a mail.
var DefaultRetryDelays = []time.Duration{time.Second, 5 * time.Second, 30 * time.Second}

// deliver sends m after the transaction that recorded it committed, off the
// request path. Wait waits for deliveries under way.
func (s *Service) deliver(ctx context.Context, outboxID uuid.UUID, m mailer.Message) {
	s.background(ctx, func(ctx context.Context) error { return s.send(ctx, outboxID, m) })
}

// background runs fn after the request, with the request's values (its id
// for the log) but not its cancellation, and logs what fn returns.
func (s *Service) background(ctx context.Context, fn func(context.Context) error) {
	s.sending.Add(1)
	go func() {
		defer s.sending.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		if err := fn(ctx); err != nil {
			s.Logger.ErrorContext(ctx, "background work failed", "request_id", requestid.FromContext(ctx), "err", err)
		}
	}()
}

// send delivers m, retrying after each failure with the configured delays,
// and records every attempt on the outbox row. A mail is sent again only
// after a failed attempt, so a link is never mailed twice on purpose; once
// the attempts run out the row keeps the last error, and the person asks
// for a new link.
func (s *Service) send(ctx context.Context, outboxID uuid.UUID, m mailer.Message) error {
	delays := s.RetryDelays
	if delays == nil {
		delays = DefaultRetryDelays
	}
	for attempt := 0; ; attempt++ {
		err := s.Mailer.Send(ctx, m)
		if err == nil {
			return s.Store.Global().MarkMailSent(ctx, outboxID)
		}
		s.Logger.WarnContext(ctx, "mail delivery failed", "outbox_id", outboxID, "kind", m.Kind, "attempt", attempt+1, "err", err)
		if markErr := s.Store.Global().MarkMailFailed(ctx, store.MarkMailFailedParams{ID: outboxID, LastError: ptr(err.Error())}); markErr != nil {
			return fmt.Errorf("record failed delivery: %w", markErr)
		}
		if attempt >= len(delays) {
			return fmt.Errorf("deliver mail %s after %d attempts: %w", outboxID, attempt+1, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("deliver mail %s: %w", outboxID, ctx.Err())
		case <-time.After(delays[attempt]):
		}
	}
}

// Wait blocks until every mail handed to delivery has been tried.
func (s *Service) Wait() { s.sending.Wait() }

func ptr[T any](v T) *T { return &v }
