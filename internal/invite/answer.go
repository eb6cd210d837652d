package invite

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/account"
	"github.com/quirehq/quire/internal/audit"
	"github.com/quirehq/quire/internal/authz"
	"github.com/quirehq/quire/internal/org"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/requestid"
	"github.com/quirehq/quire/internal/store"
)

// The answers to an invitation that cannot be given, each its own.
var (
	errBadToken = qerr.New(qerr.Unauthenticated, "invalid or expired invitation")
	errRoleGone = qerr.New(qerr.Conflict, "a role of this invitation no longer exists: ask for a new one")
	stateErrors = map[Status]*qerr.Error{
		Accepted: qerr.New(qerr.Conflict, "invitation already accepted"),
		Declined: qerr.New(qerr.Conflict, "invitation was declined"),
		Revoked:  qerr.New(qerr.Conflict, "invitation was revoked"),
		Expired:  qerr.New(qerr.Conflict, "invitation expired: ask for a new one"),
	}
)

// stateError is the CONFLICT of acting on an invitation that is st.
func stateError(st Status) error {
	if err, ok := stateErrors[st]; ok {
		return err
	}
	return fmt.Errorf("invitation in unknown status %q", st) // the column's CHECK admits none
}

// formatToken makes the token of an invitation link: the organization's id
// and the secret. The id lets accepting run inside that organization's
// wall; only the secret's hash is stored.
func formatToken(orgID uuid.UUID, secret string) string {
	return orgID.String() + "." + secret
}

// parseToken reads a token made by formatToken. Anything else is
// UNAUTHENTICATED, the same answer as a token nobody issued.
func parseToken(token string) (uuid.UUID, []byte, error) {
	id, secret, ok := strings.Cut(token, ".")
	if !ok || len(id) != 36 || secret == "" || len(secret) > 64 {
		return uuid.Nil, nil, errBadToken
	}
	orgID, err := uuid.Parse(id)
	if err != nil || orgID == uuid.Nil {
		return uuid.Nil, nil, errBadToken
	}
	return orgID, account.HashSecret(secret), nil
}

// answer runs fn on the pending, unexpired invitation token names, locked,
// in a transaction inside its organization's wall as c, the caller signed
// in on the request (the zero Caller for nobody). An unknown or malformed
// token is UNAUTHENTICATED; an invitation accepted, declined, revoked or
// expired is CONFLICT, each with its own message; someone signed in with
// another email than the invitation's is FORBIDDEN, and so is an API key,
// which acts in its own organization only. Nothing changes on any of them.
func (s *Service) answer(ctx context.Context, token string, c authz.Caller, fn func(q *store.Queries, row store.Invitation) error) error {
	if c.APIKeyID != uuid.Nil {
		return qerr.Denied("", "an API key cannot answer invitations")
	}
	orgID, hash, err := parseToken(token)
	if err != nil {
		return err
	}
	signedIn := c.UserID
	return s.Store.InOrgTx(ctx, orgID, signedIn, func(q *store.Queries) error {
		row, err := s.lockPending(ctx, q, orgID, hash)
		if err != nil {
			return err
		}
		if err := account.CheckAddressee(ctx, q, signedIn, row.Email); err != nil {
			return err
		}
		return fn(q, row)
	})
}

// lockPending finds and locks the invitation of orgID whose token hashes to
// hash, and refuses it unless it is pending and unexpired, in a live
// organization.
func (s *Service) lockPending(ctx context.Context, q *store.Queries, orgID uuid.UUID, hash []byte) (store.Invitation, error) {
	// The row lock makes two answers with one token take turns: the second
	// reads the first one's outcome.
	row, err := q.GetInvitationByTokenForUpdate(ctx, store.GetInvitationByTokenForUpdateParams{OrgID: orgID, TokenHash: hash})
	if err == store.ErrNoRows {
		return row, errBadToken
	}
	if err != nil {
		return row, fmt.Errorf("find invitation: %w", err)
	}
	if st := fromStore(row, s.Now()).Status; st != Pending {
		return row, stateError(st)
	}
	// A deleted organization's invitations die with it, whether its rows
	// are kept or not: the link answers as if it had never been.
	if _, err := q.GetOrganization(ctx, orgID); err == store.ErrNoRows {
		return row, errBadToken
	} else if err != nil {
		return row, fmt.Errorf("get organization %s: %w", orgID, err)
	}
	return row, nil
}

// Accept answers yes to the invitation token names, in one transaction: the
// invitee (created on first use) becomes a member with the invitation's
// roles, the invitation is ACCEPTED, and a session is opened for them, whose
// tokens are returned. c is the caller signed in on the request, the zero
// Caller for nobody. Besides answer's errors: a DEACTIVATED invitee is
// FORBIDDEN; an invitee already a member, or an invitation one of whose
// roles has been deleted, is CONFLICT, and the invitation stays pending.
func (s *Service) Accept(ctx context.Context, token string, c authz.Caller) (*account.AuthPayload, error) {
	var payload *account.AuthPayload
	err := s.answer(ctx, token, c, func(q *store.Queries, row store.Invitation) error {
		u, err := s.Accounts.Invitee(ctx, q, row.Email)
		if err != nil {
			return err
		}
		if _, _, err := org.LoadRoles(ctx, q, row.OrgID, row.RoleIds); qerr.Is(err, qerr.NotFound) {
			return errRoleGone
		} else if err != nil {
			return err
		}
		if _, err := org.AddMember(ctx, q, row.OrgID, u.ID, row.RoleIds); err != nil {
			return err
		}
		if err := s.decide(ctx, q, row, Accepted, u.ID); err != nil {
			return err
		}
		payload, err = s.Accounts.OpenSession(ctx, q, u.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return payload, nil
}

// Decline answers no to the invitation token names: it becomes DECLINED.
// c is as for Accept, and the errors are answer's.
func (s *Service) Decline(ctx context.Context, token string, c authz.Caller) error {
	return s.answer(ctx, token, c, func(q *store.Queries, row store.Invitation) error {
		actor, err := account.FindUserByEmail(ctx, q, row.Email)
		if err != nil {
			return err
		}
		return s.decide(ctx, q, row, Declined, actor)
	})
}

var answerActions = map[Status]string{Accepted: "invitation.accept", Declined: "invitation.decline"}

// decide records the addressee's answer to row and its audit event, done by
// actor: the addressee's user, or uuid.Nil if they have none.
func (s *Service) decide(ctx context.Context, q *store.Queries, row store.Invitation, st Status, actor uuid.UUID) error {
	params := store.DecideInvitationParams{Status: string(st), Now: s.Now(), OrgID: row.OrgID, ID: row.ID}
	if st == Accepted {
		params.AcceptedBy = &actor
	}
	if _, err := q.DecideInvitation(ctx, params); err != nil {
		return fmt.Errorf("record answer to invitation %s: %w", row.ID, err)
	}
	e := audit.Event{Action: answerActions[st], TargetType: "invitation", TargetID: row.ID}
	if actor != uuid.Nil {
		return audit.Record(ctx, q, policy.Principal{UserID: policy.ID(actor), OrgID: policy.ID(row.OrgID)}, e)
	}
	return recordWithoutActor(ctx, q, row.OrgID, e)
}

// recordWithoutActor writes e in orgID with no actor: someone without an
// account declined. audit.Record always names its principal's user.
func recordWithoutActor(ctx context.Context, q *store.Queries, orgID uuid.UUID, e audit.Event) error {
	params := store.CreateAuditEventParams{
		ID: uuid.Must(uuid.NewV7()), OrgID: &orgID, Action: e.Action, Decision: "ALLOWED",
		TargetType: &e.TargetType, TargetID: &e.TargetID,
	}
	if id := requestid.FromContext(ctx); id != "" {
		params.RequestID = &id
	}
	if err := q.CreateAuditEvent(ctx, params); err != nil {
		return fmt.Errorf("record audit event %s: %w", e.Action, err)
	}
	return nil
}
