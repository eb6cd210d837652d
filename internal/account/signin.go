package account

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/audit"
	mailer "github.com/quirehq/quire/internal/mail"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/store"
)

// RequestLoginLink mails a sign-in link to email if it belongs to an active
// user, and does nothing otherwise. It reports no difference to the caller,
// in its answer or its timing (the mail leaves after the request), so it
// cannot be used to find out who has an account.
func (s *Service) RequestLoginLink(ctx context.Context, email string) error {
	e, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	var msg *mailer.Message
	var outboxID uuid.UUID
	err = s.Store.InTx(ctx, func(q *store.Queries) error {
		u, err := q.GetUserByEmail(ctx, e)
		if qerr.Is(mapNoRows(err), qerr.NotFound) || (err == nil && u.Status != string(Active)) {
			return nil
		}
		if err != nil {
			return err
		}
		link, err := s.createLoginLink(ctx, q, u.ID)
		if err != nil {
			return err
		}
		m := loginMessage(u.Email, link)
		outboxID, err = recordMail(ctx, q, m)
		msg = &m
		return err
	})
	if err != nil {
		return fmt.Errorf("request login link: %w", err)
	}
	if msg != nil {
		s.deliver(outboxID, *msg)
	}
	return nil
}

// createLoginLink stores a new single-use token for user and returns the
// link carrying it.
func (s *Service) createLoginLink(ctx context.Context, q *store.Queries, user uuid.UUID) (string, error) {
	secret, hash := newSecret()
	err := q.CreateLoginToken(ctx, store.CreateLoginTokenParams{
		TokenHash: hash, UserID: user, ExpiresAt: s.Now().Add(LoginLinkTTL),
	})
	if err != nil {
		return "", fmt.Errorf("create login token: %w", err)
	}
	return s.PublicURL + "/login?token=" + secret, nil
}

// SignInWithLink consumes a login token and opens a session. A token that
// is unknown, used, expired or belongs to a deactivated user answers
// UNAUTHENTICATED, the same for each, and consumes nothing of another's.
func (s *Service) SignInWithLink(ctx context.Context, token string) (*AuthPayload, error) {
	if token == "" || len(token) > 128 {
		return nil, qerr.New(qerr.Unauthenticated, "invalid or expired sign-in link")
	}
	var payload *AuthPayload
	err := s.Store.InTx(ctx, func(q *store.Queries) error {
		user, err := q.ConsumeLoginToken(ctx, store.ConsumeLoginTokenParams{TokenHash: hashSecret(token), Now: s.Now()})
		if qerr.Is(mapNoRows(err), qerr.NotFound) {
			return qerr.New(qerr.Unauthenticated, "invalid or expired sign-in link")
		}
		if err != nil {
			return fmt.Errorf("consume login token: %w", err)
		}
		payload, err = s.openSession(ctx, q, user)
		if err != nil {
			return err
		}
		return audit.RecordGlobal(ctx, q, user, audit.Event{Action: "session.sign_in", TargetType: "user", TargetID: user})
	})
	if err != nil {
		return nil, err
	}
	return payload, nil
}

// openSession starts a session for an active user and issues its first
// access and refresh tokens.
func (s *Service) openSession(ctx context.Context, q *store.Queries, userID uuid.UUID) (*AuthPayload, error) {
	u, err := q.GetUser(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("load user: %w", err)
	}
	if u.Status != string(Active) {
		return nil, qerr.New(qerr.Unauthenticated, "invalid or expired sign-in link")
	}
	now := s.Now()
	session := uuid.Must(uuid.NewV7())
	expires := now.Add(s.RefreshTTL)
	if err := q.CreateSession(ctx, store.CreateSessionParams{ID: session, UserID: u.ID, ExpiresAt: expires}); err != nil {
		return nil, fmt.Errorf("create session: %w", err)
	}
	refresh, hash := newSecret()
	err = q.CreateRefreshToken(ctx, store.CreateRefreshTokenParams{TokenHash: hash, SessionID: session, ExpiresAt: expires})
	if err != nil {
		return nil, fmt.Errorf("create refresh token: %w", err)
	}
	access, accessExp, err := s.Tokens.Issue(u.ID, session)
	if err != nil {
		return nil, fmt.Errorf("issue access token: %w", err)
	}
	return &AuthPayload{AccessToken: access, RefreshToken: refresh, ExpiresAt: accessExp, User: fromStore(u)}, nil
}

// CreateWithLink creates the user with email (or sets the platform role and
// name of the existing one) and returns a fresh single-use sign-in link. It
// is how the first administrator gets in: `quire admin create-user`.
func (s *Service) CreateWithLink(ctx context.Context, email string, name *string, role policy.PlatformRole) (*User, string, error) {
	e, err := NormalizeEmail(email)
	if err != nil {
		return nil, "", err
	}
	var user store.User
	var link string
	err = s.Store.InTx(ctx, func(q *store.Queries) error {
		user, err = q.UpsertUser(ctx, store.UpsertUserParams{
			ID: uuid.Must(uuid.NewV7()), Email: e, DisplayName: name, PlatformRole: role.String(),
		})
		if err != nil {
			return fmt.Errorf("upsert user: %w", err)
		}
		if link, err = s.createLoginLink(ctx, q, user.ID); err != nil {
			return err
		}
		return audit.RecordGlobal(ctx, q, uuid.Nil, audit.Event{
			Action: "user.create_with_link", TargetType: "user", TargetID: user.ID, Reason: "command line",
		})
	})
	if err != nil {
		return nil, "", err
	}
	return fromStore(user), link, nil
}

// mapNoRows turns store.ErrNoRows into NOT_FOUND for queries run on a bare
// *store.Queries inside a transaction, before InTx maps errors.
func mapNoRows(err error) error {
	if err == store.ErrNoRows {
		return qerr.New(qerr.NotFound, "not found")
	}
	return err
}
