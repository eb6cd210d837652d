package account

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"unicode"

	"github.com/google/uuid"

	mailer "github.com/quirehq/quire/internal/mail"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/store"
)

// What the invitation service needs of accounts: secrets made and hashed
// the way sign-in links are, the user an accepted invitation signs in, a
// session for them, and the invitation mail. Each runs on the caller's
// queries, inside the invitation's transaction.

// NewSecret returns 256 random bits in URL-safe base64 and their SHA-256,
// the only form in which the secret may be stored.
func NewSecret() (secret string, hash []byte) { return newSecret() }

// HashSecret returns the SHA-256 of secret, as NewSecret does.
func HashSecret(secret string) []byte { return hashSecret(secret) }

// CheckAddressee refuses, with FORBIDDEN, an answer to an invitation
// addressed to email from someone signed in (signedIn is not uuid.Nil) with
// another email. Nobody signed in is not refused: the token is the proof.
func CheckAddressee(ctx context.Context, q *store.Queries, signedIn uuid.UUID, email string) error {
	if signedIn == uuid.Nil {
		return nil
	}
	me, err := q.GetUser(ctx, signedIn)
	if err != nil {
		return fmt.Errorf("load signed-in user: %w", err)
	}
	if me.Email != email {
		return qerr.Denied("", "this invitation is addressed to another email")
	}
	return nil
}

// Invitee returns, on q, the user an invitation addressed to email signs
// in, creating them on first use with the USER platform role and no display
// name. A DEACTIVATED user is FORBIDDEN. email must be normalized already.
func (s *Service) Invitee(ctx context.Context, q *store.Queries, email string) (*User, error) {
	u, err := q.GetUserByEmail(ctx, email)
	if err == store.ErrNoRows {
		// A concurrent registration of the same address makes this INSERT
		// a unique violation, which answers CONFLICT.
		u, err = q.CreateUser(ctx, store.CreateUserParams{
			ID: uuid.Must(uuid.NewV7()), Email: email, PlatformRole: policy.PlatformUser.String(),
		})
	}
	if err != nil {
		return nil, fmt.Errorf("find or create invitee: %w", err)
	}
	if u.Status != string(Active) {
		return nil, qerr.Denied("", "this account is deactivated")
	}
	return fromStore(u), nil
}

// FindUserByEmail returns the id of the user with email, uuid.Nil if there
// is none. email must be normalized already.
func FindUserByEmail(ctx context.Context, q *store.Queries, email string) (uuid.UUID, error) {
	u, err := q.GetUserByEmail(ctx, email)
	if err == store.ErrNoRows {
		return uuid.Nil, nil
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("find user: %w", err)
	}
	return u.ID, nil
}

// OpenSession starts a session for the active user userID on q and issues
// its first access and refresh tokens.
func (s *Service) OpenSession(ctx context.Context, q *store.Queries, userID uuid.UUID) (*AuthPayload, error) {
	return s.openSession(ctx, q, userID)
}

// Mail is a mail recorded in the outbox and not yet sent: Send it once the
// transaction that recorded it has committed.
type Mail struct {
	o outgoing
}

// LogValue implements slog.LogValuer: a Mail logs as its message does,
// with the link and text redacted.
func (m Mail) LogValue() slog.Value { return m.o.msg.LogValue() }

// String shows what LogValue shows, so formatting a Mail cannot leak its
// token.
func (m Mail) String() string { return m.o.msg.String() }

// RecordInvitationMail records, on q, the mail inviting to to join the
// organization named orgName through the link carrying token, and returns
// it for Send. The outbox keeps the recipient and subject, never the link.
func (s *Service) RecordInvitationMail(ctx context.Context, q *store.Queries, to, orgName, token string) (Mail, error) {
	m := invitationMessage(to, orgName, s.PublicURL+"/invite?token="+token)
	id, err := recordMail(ctx, q, m)
	if err != nil {
		return Mail{}, err
	}
	return Mail{o: outgoing{outboxID: id, msg: m}}, nil
}

// Send delivers m off the request path; Wait waits for it.
func (s *Service) Send(ctx context.Context, m Mail) {
	if m.o.outboxID == uuid.Nil {
		return
	}
	s.deliver(ctx, m.o.outboxID, m.o.msg)
}

func invitationMessage(to, orgName, link string) mailer.Message {
	return mailer.Message{
		To:      to,
		Subject: "You are invited to join " + oneLine(orgName) + " on Quire",
		Kind:    mailer.KindInvitation,
		Link:    link,
		Text: "You have been invited to join an organization on Quire. Open this link to accept or decline:\n\n" + link +
			"\n\nIt works once and expires in 7 days. If you did not expect it, ignore this mail.\n",
	}
}

// oneLine makes an organization's name safe for a header: its control
// characters (a line break would add headers) become spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
