package invite

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/account"
	"github.com/quirehq/quire/internal/audit"
	"github.com/quirehq/quire/internal/org"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/store"
)

// TTL is how long an invitation link works; resending starts it again.
const TTL = 7 * 24 * time.Hour

// Service manages invitations. The inviter's side (Invite, Revoke, Resend,
// List) takes the principal put on the context by @orgScoped and works
// inside its organization's wall; the addressee's side (Accept, Decline,
// Mine) is described on each method.
type Service struct {
	Store *store.Store
	// Accounts signs the invitee in and sends the mail: the invitation's
	// transaction calls it, never the other way round.
	Accounts *account.Service
	Now      func() time.Time
}

// New returns the invitation service working with accounts, on its store
// and clock.
func New(accounts *account.Service) *Service {
	return &Service{Store: accounts.Store, Accounts: accounts, Now: accounts.Now}
}

func (s *Service) inOrg(ctx context.Context, p policy.Principal, fn func(q *store.Queries) error) error {
	return s.Store.InOrgTx(ctx, uuid.UUID(p.OrgID), uuid.UUID(p.UserID), fn)
}

// mayInvite repeats the gate of @hasPermission(members:invite), so the
// service holds on its own.
func mayInvite(p policy.Principal) error {
	if d := policy.Can(p, policy.MembersInvite, policy.InOrg(p.OrgID)); !d.Allowed {
		return qerr.Denied(d.Permission.String(), d.Reason)
	}
	return nil
}

// Invite invites email into the principal's organization with the roles
// roleIDs and mails the link after the commit. A malformed email or no role
// is BAD_USER_INPUT; a role that is not the organization's is NOT_FOUND;
// roles granting a permission the principal does not hold are FORBIDDEN,
// naming it; an address that is already an active member is CONFLICT, and
// so is one with a pending, unexpired invitation (resend that one instead).
func (s *Service) Invite(ctx context.Context, p policy.Principal, in Input) (*Invitation, error) {
	email, err := validInput(p, in)
	if err != nil {
		return nil, err
	}
	var (
		inv  *Invitation
		mail account.Mail
	)
	err = s.inOrg(ctx, p, func(q *store.Queries) error {
		if err := checkGrant(ctx, q, p, in.RoleIDs); err != nil {
			return err
		}
		now := s.Now()
		if err := checkInvitee(ctx, q, p, email, now); err != nil {
			return err
		}
		secret, hash := account.NewSecret()
		inviter := uuid.UUID(p.UserID)
		row, err := q.CreateInvitation(ctx, store.CreateInvitationParams{
			ID: uuid.Must(uuid.NewV7()), OrgID: uuid.UUID(p.OrgID), Email: email, RoleIds: in.RoleIDs,
			TokenHash: hash, InvitedBy: &inviter, CreatedAt: now, ExpiresAt: now.Add(TTL),
		})
		if err != nil {
			return fmt.Errorf("insert invitation: %w", err)
		}
		inv, mail, err = s.send(ctx, q, p, row, secret, "invitation.create")
		return err
	})
	if err != nil {
		return nil, err
	}
	s.Accounts.Send(ctx, mail) // after the commit: no mail for an invitation that does not exist
	return inv, nil
}

func validInput(p policy.Principal, in Input) (email string, err error) {
	if err := mayInvite(p); err != nil {
		return "", err
	}
	if email, err = account.NormalizeEmail(in.Email); err != nil {
		return "", err
	}
	if len(in.RoleIDs) == 0 {
		return "", qerr.Invalid("roleIds", "an invitation grants at least one role")
	}
	return email, nil
}

// checkGrant is the no-escalation rule for an invitation: the roles must be
// the organization's (NOT_FOUND), and the principal must hold everything
// they grant (FORBIDDEN naming the first permission missing).
func checkGrant(ctx context.Context, q *store.Queries, p policy.Principal, roleIDs []uuid.UUID) error {
	_, granted, err := org.LoadRoles(ctx, q, uuid.UUID(p.OrgID), roleIDs)
	if err != nil {
		return err
	}
	if d := policy.CanGrant(p, granted); !d.Allowed {
		return qerr.Denied(d.Permission.String(), d.Reason)
	}
	return nil
}

// checkInvitee refuses an address that is already an active member, or
// already has a pending invitation that has not expired. The advisory lock
// makes the check and the insert that follows one step for this address.
func checkInvitee(ctx context.Context, q *store.Queries, p policy.Principal, email string, now time.Time) error {
	orgID := uuid.UUID(p.OrgID)
	if err := q.LockInvitee(ctx, store.LockInviteeParams{OrgID: orgID, Email: email}); err != nil {
		return fmt.Errorf("lock invitee: %w", err)
	}
	if err := checkNotMember(ctx, q, orgID, email); err != nil {
		return err
	}
	pending, err := q.HasPendingInvitation(ctx, store.HasPendingInvitationParams{OrgID: orgID, Email: email, Now: now})
	if err != nil {
		return fmt.Errorf("find pending invitation: %w", err)
	}
	if pending {
		return qerr.New(qerr.Conflict, "an invitation is already pending for this email: resend it")
	}
	return nil
}

func checkNotMember(ctx context.Context, q *store.Queries, orgID uuid.UUID, email string) error {
	member, err := q.IsActiveMemberByEmail(ctx, store.IsActiveMemberByEmailParams{OrgID: orgID, Email: email})
	if err != nil {
		return fmt.Errorf("find member: %w", err)
	}
	if member {
		return qerr.New(qerr.Conflict, "already a member of this organization")
	}
	return nil
}

// send reads row's details, records the mail carrying a link with secret
// and the audit event action, all on q.
func (s *Service) send(ctx context.Context, q *store.Queries, p policy.Principal, row store.Invitation, secret, action string) (*Invitation, account.Mail, error) {
	inv := fromStore(row, s.Now())
	if err := withDetails(ctx, q, inv.OrgID, []*Invitation{inv}); err != nil {
		return nil, account.Mail{}, err
	}
	mail, err := s.Accounts.RecordInvitationMail(ctx, q, inv.Email, inv.org.Name, formatToken(inv.OrgID, secret))
	if err != nil {
		return nil, account.Mail{}, err
	}
	err = audit.Record(ctx, q, p, audit.Event{Action: action, TargetType: "invitation", TargetID: inv.ID})
	return inv, mail, err
}

// lock loads and locks an invitation of the principal's organization;
// another organization's, or none, is NOT_FOUND.
func lock(ctx context.Context, q *store.Queries, p policy.Principal, id uuid.UUID) (store.Invitation, error) {
	row, err := q.GetInvitationForUpdate(ctx, store.GetInvitationForUpdateParams{OrgID: uuid.UUID(p.OrgID), ID: id})
	if err == store.ErrNoRows {
		return row, qerr.New(qerr.NotFound, "invitation not found")
	}
	if err != nil {
		return row, fmt.Errorf("lock invitation %s: %w", id, err)
	}
	return row, nil
}

// Revoke kills a pending invitation (expired or not), so its link stops
// working. Another organization's id is NOT_FOUND; an invitation already
// accepted, declined or revoked is CONFLICT.
func (s *Service) Revoke(ctx context.Context, p policy.Principal, id uuid.UUID) (*Invitation, error) {
	if err := mayInvite(p); err != nil {
		return nil, err
	}
	var inv *Invitation
	err := s.inOrg(ctx, p, func(q *store.Queries) error {
		row, err := lock(ctx, q, p, id)
		if err != nil {
			return err
		}
		if row.Status != string(Pending) {
			return stateError(Status(row.Status))
		}
		row, err = q.DecideInvitation(ctx, store.DecideInvitationParams{
			Status: string(Revoked), Now: s.Now(), OrgID: row.OrgID, ID: row.ID,
		})
		if err != nil {
			return fmt.Errorf("revoke invitation %s: %w", id, err)
		}
		inv = fromStore(row, s.Now())
		if err := withDetails(ctx, q, inv.OrgID, []*Invitation{inv}); err != nil {
			return err
		}
		return audit.Record(ctx, q, p, audit.Event{Action: "invitation.revoke", TargetType: "invitation", TargetID: id})
	})
	return inv, err
}

// Resend gives a pending invitation (expired or not) a new link, valid for
// TTL from now, and mails it after the commit; the old link stops working.
// Another organization's id is NOT_FOUND; an invitation no longer pending
// is CONFLICT, and so is one whose address has become a member or one of
// whose roles has been deleted. Resending is granting again: roles granting
// a permission the principal does not hold are FORBIDDEN.
func (s *Service) Resend(ctx context.Context, p policy.Principal, id uuid.UUID) (*Invitation, error) {
	if err := mayInvite(p); err != nil {
		return nil, err
	}
	var (
		inv  *Invitation
		mail account.Mail
	)
	err := s.inOrg(ctx, p, func(q *store.Queries) error {
		row, err := lock(ctx, q, p, id)
		if err != nil {
			return err
		}
		if err := s.resendable(ctx, q, p, row); err != nil {
			return err
		}
		secret, hash := account.NewSecret()
		row, err = q.RenewInvitation(ctx, store.RenewInvitationParams{
			TokenHash: hash, ExpiresAt: s.Now().Add(TTL), OrgID: row.OrgID, ID: row.ID,
		})
		if err != nil {
			return fmt.Errorf("renew invitation %s: %w", id, err)
		}
		inv, mail, err = s.send(ctx, q, p, row, secret, "invitation.resend")
		return err
	})
	if err != nil {
		return nil, err
	}
	s.Accounts.Send(ctx, mail)
	return inv, nil
}

func (s *Service) resendable(ctx context.Context, q *store.Queries, p policy.Principal, row store.Invitation) error {
	if row.Status != string(Pending) {
		return stateError(Status(row.Status))
	}
	if err := checkGrant(ctx, q, p, row.RoleIds); err != nil {
		if qerr.Is(err, qerr.NotFound) {
			return errRoleGone
		}
		return err
	}
	return checkNotMember(ctx, q, row.OrgID, row.Email)
}

// List returns the principal's organization's invitations, newest first,
// only those of status if it is given: EXPIRED are the pending ones past
// their expiry, and PENDING leaves those out.
func (s *Service) List(ctx context.Context, p policy.Principal, status *Status) ([]*Invitation, error) {
	if err := mayInvite(p); err != nil {
		return nil, err
	}
	now := s.Now()
	params := store.ListInvitationsParams{OrgID: uuid.UUID(p.OrgID), Now: now}
	if status != nil {
		st, expired := string(*status), *status == Expired
		if expired || *status == Pending {
			st = string(Pending)
			params.Expired = &expired
		}
		params.Status = &st
	}
	var out []*Invitation
	err := s.inOrg(ctx, p, func(q *store.Queries) error {
		rows, err := q.ListInvitations(ctx, params)
		if err != nil {
			return fmt.Errorf("list invitations: %w", err)
		}
		out = make([]*Invitation, len(rows))
		for i, r := range rows {
			out[i] = fromStore(r, now)
		}
		return withDetails(ctx, q, uuid.UUID(p.OrgID), out)
	})
	return out, err
}
