package account

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/audit"
	"github.com/quirehq/quire/internal/authz"
	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/store"
)

var errBadRefresh = qerr.New(qerr.Unauthenticated, "invalid or expired refresh token: sign in again")

// Refresh rotates a refresh token: the presented one is spent and a new
// access and refresh token returned, in one transaction. A token presented
// a second time means two parties hold it, so the whole session is revoked
// (RFC 9700 §4.14) — the legitimate holder's newest token fails too — and
// the answer is UNAUTHENTICATED. The token's row lock makes two concurrent
// refreshes with one token the same case: one wins, the other revokes.
func (s *Service) Refresh(ctx context.Context, token string) (*AuthPayload, error) {
	if token == "" || len(token) > 128 {
		return nil, errBadRefresh
	}
	var payload *AuthPayload
	reused := false
	err := s.Store.InTx(ctx, func(q *store.Queries) error {
		rt, err := q.GetRefreshToken(ctx, hashSecret(token))
		if err == store.ErrNoRows {
			return errBadRefresh
		}
		if err != nil {
			return fmt.Errorf("find refresh token: %w", err)
		}
		now := s.Now()
		switch {
		case rt.UsedAt != nil:
			reused = true
			return s.revokeReused(ctx, q, rt)
		case rt.RevokedAt != nil, !rt.ExpiresAt.After(now), rt.Status != string(Active):
			return errBadRefresh
		}
		if err := q.UseRefreshToken(ctx, store.UseRefreshTokenParams{TokenHash: hashSecret(token), Now: now}); err != nil {
			return fmt.Errorf("spend refresh token: %w", err)
		}
		payload, err = s.issue(ctx, q, rt.UserID, rt.SessionID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if reused { // the revocation above committed; only now refuse
		return nil, qerr.New(qerr.Unauthenticated, "refresh token already used: the session is revoked, sign in again")
	}
	return payload, nil
}

func (s *Service) revokeReused(ctx context.Context, q *store.Queries, rt store.GetRefreshTokenRow) error {
	reason := "refresh token reused"
	if _, err := q.RevokeSession(ctx, store.RevokeSessionParams{ID: rt.SessionID, UserID: rt.UserID, Now: s.Now(), Reason: &reason}); err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	s.Logger.WarnContext(ctx, "refresh token reuse: session revoked", "user_id", rt.UserID, "session_id", rt.SessionID)
	return audit.RecordGlobal(ctx, q, rt.UserID, audit.Event{
		Action: "session.refresh_reused", TargetType: "session", TargetID: rt.SessionID,
		Denied: true, Reason: "a spent refresh token was presented again; the session is revoked",
	})
}

// issue hands out a new refresh token for session and an access token for
// user, and moves the session's idle expiry.
func (s *Service) issue(ctx context.Context, q *store.Queries, userID, session uuid.UUID) (*AuthPayload, error) {
	u, err := q.GetUser(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("load user: %w", err)
	}
	now := s.Now()
	expires := now.Add(s.RefreshTTL)
	refresh, hash := newSecret()
	err = q.CreateRefreshToken(ctx, store.CreateRefreshTokenParams{TokenHash: hash, SessionID: session, ExpiresAt: expires})
	if err != nil {
		return nil, fmt.Errorf("create refresh token: %w", err)
	}
	if err := q.TouchSession(ctx, store.TouchSessionParams{ID: session, Now: now, ExpiresAt: expires}); err != nil {
		return nil, fmt.Errorf("extend session: %w", err)
	}
	access, accessExp, err := s.Tokens.Issue(u.ID, session)
	if err != nil {
		return nil, fmt.Errorf("issue access token: %w", err)
	}
	return &AuthPayload{AccessToken: access, RefreshToken: refresh, ExpiresAt: accessExp, User: fromStore(u)}, nil
}

// SignOut revokes the caller's session, or with all every session of the
// caller; their access and refresh tokens fail from the next request on.
func (s *Service) SignOut(ctx context.Context, c authz.Caller, all bool) error {
	if c.SessionID == uuid.Nil {
		return qerr.New(qerr.BadUserInput, "this credential has no session to sign out of")
	}
	return s.Store.InTx(ctx, func(q *store.Queries) error {
		var err error
		if all {
			reason := "signed out of every session"
			_, err = q.RevokeUserSessions(ctx, store.RevokeUserSessionsParams{UserID: c.UserID, Now: s.Now(), Reason: &reason})
		} else {
			reason := "signed out"
			_, err = q.RevokeSession(ctx, store.RevokeSessionParams{ID: c.SessionID, UserID: c.UserID, Now: s.Now(), Reason: &reason})
		}
		if err != nil {
			return fmt.Errorf("revoke sessions: %w", err)
		}
		e := audit.Event{Action: "session.sign_out", TargetType: "session", TargetID: c.SessionID}
		if all {
			e = audit.Event{Action: "session.sign_out_everywhere", TargetType: "user", TargetID: c.UserID}
		}
		return audit.RecordGlobal(ctx, q, c.UserID, e)
	})
}
