package account

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/audit"
	mailer "github.com/quirehq/quire/internal/mail"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/requestid"
	"github.com/quirehq/quire/internal/store"
)

// Limits on sign-in links, in fixed windows shared by every replica: per
// address, so nobody floods an inbox, and per client, so nobody probes at
// speed.
const (
	linkWindow     = 15 * time.Minute
	linksPerEmail  = 5
	linksPerClient = 30
)

// RequestLoginLink mails a sign-in link to email if it belongs to an active
// user, and does nothing otherwise. Past the validation and the rate limit
// (RATE_LIMITED, the same for every address) the answer is the same, and so
// is its timing: the look-up and the mail happen after the request, so the
// call cannot tell who has an account.
func (s *Service) RequestLoginLink(ctx context.Context, email string) error {
	e, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	if err := s.limitLinks(ctx, e); err != nil {
		return err
	}
	s.background(ctx, func(ctx context.Context) error { return s.sendLoginLink(ctx, e) })
	return nil
}

func (s *Service) limitLinks(ctx context.Context, email string) error {
	sum := sha256.Sum256([]byte(email)) // unknown addresses are not kept
	keys := map[string]int32{"login-email:" + hex.EncodeToString(sum[:]): linksPerEmail}
	if ip := requestid.ClientIP(ctx); ip != "" {
		keys["login-ip:"+ip] = linksPerClient
	}
	window := s.Now().Truncate(linkWindow)
	return s.Store.InTx(ctx, func(q *store.Queries) error {
		for key, max := range keys {
			hits, err := q.HitRateLimit(ctx, store.HitRateLimitParams{Key: key, WindowStart: window})
			if err != nil {
				return fmt.Errorf("count sign-in links: %w", err)
			}
			if hits > max { // the transaction rolls back: refusals do not count
				return qerr.New(qerr.RateLimited, "too many sign-in links requested: try again in a few minutes")
			}
		}
		if rand.IntN(100) == 0 { // now and then, forget windows long past
			return q.PruneRateLimits(ctx, window.Add(-2*linkWindow))
		}
		return nil
	})
}

// sendLoginLink is RequestLoginLink's work after the answer: for an active
// user, a link recorded and mailed.
func (s *Service) sendLoginLink(ctx context.Context, email string) error {
	var msg *mailer.Message
	var outboxID uuid.UUID
	err := s.Store.InTx(ctx, func(q *store.Queries) error {
		u, err := q.GetUserByEmail(ctx, email)
		if err == store.ErrNoRows || (err == nil && u.Status != string(Active)) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("find user: %w", err)
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
	if err != nil || msg == nil {
		return err
	}
	return s.send(ctx, outboxID, *msg)
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
		if err == store.ErrNoRows {
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
	session := uuid.Must(uuid.NewV7())
	err = q.CreateSession(ctx, store.CreateSessionParams{ID: session, UserID: u.ID, ExpiresAt: s.Now().Add(s.RefreshTTL)})
	if err != nil {
		return nil, fmt.Errorf("create session: %w", err)
	}
	return s.issue(ctx, q, u.ID, session)
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
