package account

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	mailer "github.com/quirehq/quire/internal/mail"
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

// deliver sends m after the transaction that recorded it committed, off the
// request path, and marks the outbox row. Wait waits for deliveries under way.
func (s *Service) deliver(outboxID uuid.UUID, m mailer.Message) {
	s.sending.Add(1)
	go func() {
		defer s.sending.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		sendErr := s.Mailer.Send(ctx, m)
		err := s.Store.InTx(ctx, func(q *store.Queries) error {
			if sendErr != nil {
				return q.MarkMailFailed(ctx, store.MarkMailFailedParams{ID: outboxID, LastError: ptr(sendErr.Error())})
			}
			return q.MarkMailSent(ctx, outboxID)
		})
		if sendErr != nil {
			s.Logger.Error("mail delivery failed", "outbox_id", outboxID, "kind", m.Kind, "err", sendErr)
		}
		if err != nil {
			s.Logger.Error("mail outbox update failed", "outbox_id", outboxID, "err", err)
		}
	}()
}

// Wait blocks until every mail handed to delivery has been tried.
func (s *Service) Wait() { s.sending.Wait() }

func ptr[T any](v T) *T { return &v }
