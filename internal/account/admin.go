package account

import (
	"context"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/quirehq/quire/internal/audit"
	"github.com/quirehq/quire/internal/authz"
	mailer "github.com/quirehq/quire/internal/mail"
	"github.com/quirehq/quire/internal/page"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/qerr"
	"github.com/quirehq/quire/internal/store"
)

// Limits on what an administrator types, in characters. The display name's
// is also a CHECK on users.
const (
	maxDisplayName      = 100
	maxDeactivateReason = 500
	maxUserQuery        = 100
)

// Register creates a USER with email and an optional display name, and
// mails them a single-use sign-in link once the user exists. The actor must
// be at least ADMIN (FORBIDDEN). A malformed email or a name longer than 100
// characters is BAD_USER_INPUT; an email already registered, in any case, is
// CONFLICT, and nothing is created or mailed.
func (s *Service) Register(ctx context.Context, actor authz.Caller, email string, displayName *string) (*User, error) {
	if d := policy.HasPlatformRole(actor.PlatformRole, policy.PlatformAdmin); !d.Allowed {
		return nil, qerr.Denied("", d.Reason)
	}
	e, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	name, err := trimmed("displayName", displayName, maxDisplayName)
	if err != nil {
		return nil, err
	}
	var (
		u       store.User
		pending outgoing
	)
	err = s.Store.InTx(ctx, func(q *store.Queries) error {
		var err error
		u, pending, err = s.register(ctx, q, actor, e, name)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("register user: %w", err)
	}
	s.deliver(ctx, pending.outboxID, pending.msg) // after the commit: no mail for a user who does not exist
	return fromStore(u), nil
}

// outgoing is a mail recorded in the outbox, to deliver after the commit.
type outgoing struct {
	outboxID uuid.UUID
	msg      mailer.Message
}

// register creates the user, their sign-in link, its outbox row and the
// audit event, all in q's transaction.
func (s *Service) register(ctx context.Context, q *store.Queries, actor authz.Caller, email string, name *string) (store.User, outgoing, error) {
	_, err := q.GetUserByEmail(ctx, email)
	if err == nil {
		return store.User{}, outgoing{}, qerr.New(qerr.Conflict, "a user with this email already exists")
	}
	if err != store.ErrNoRows {
		return store.User{}, outgoing{}, fmt.Errorf("find user: %w", err)
	}
	// Two registrations of one address can both get here; the unique index
	// users_email_key turns the second INSERT into the same CONFLICT.
	u, err := q.CreateUser(ctx, store.CreateUserParams{
		ID: uuid.Must(uuid.NewV7()), Email: email, DisplayName: name, PlatformRole: policy.PlatformUser.String(),
	})
	if err != nil {
		return store.User{}, outgoing{}, fmt.Errorf("create user: %w", err)
	}
	link, err := s.createLoginLink(ctx, q, u.ID)
	if err != nil {
		return store.User{}, outgoing{}, err
	}
	pending := outgoing{msg: registrationMessage(u.Email, link)}
	if pending.outboxID, err = recordMail(ctx, q, pending.msg); err != nil {
		return store.User{}, outgoing{}, err
	}
	err = audit.RecordGlobal(ctx, q, actor.UserID, audit.Event{Action: "user.register", TargetType: "user", TargetID: u.ID})
	return u, pending, err
}

func registrationMessage(to, link string) mailer.Message {
	return mailer.Message{
		To:      to,
		Subject: "You have been invited to Quire",
		Kind:    "login",
		Link:    link,
		Text: "An administrator has created a Quire account for you. Open this link to sign in:\n\n" + link +
			"\n\nIt works once and expires in 15 minutes; after that, ask for a new link on the sign-in page.\n",
	}
}

// SetPlatformRole gives target the platform role role. Who may is
// policy.CanSetPlatformRole's (FORBIDDEN with its reason); an unknown target
// is NOT_FOUND. Setting the role the target already has changes nothing and
// audits nothing. Demoting the last active SUPERADMIN is CONFLICT. The
// target's authz epoch moves by trigger, so their next request sees the
// change.
func (s *Service) SetPlatformRole(ctx context.Context, actor authz.Caller, target uuid.UUID, role policy.PlatformRole) (*User, error) {
	var out store.User
	err := s.Store.InTx(ctx, func(q *store.Queries) error {
		supers, u, err := lockForChange(ctx, q, target)
		if err != nil {
			return err
		}
		from := roleOf(u)
		d := policy.CanSetPlatformRole(policy.ID(actor.UserID), actor.PlatformRole, policy.ID(target), from, role)
		if !d.Allowed {
			return qerr.Denied("", d.Reason)
		}
		if from == role {
			out = u
			return nil
		}
		// target is in supers only as an active SUPERADMIN, and role differs:
		// this is a demotion.
		if lastSuperadmin(supers, target) {
			return qerr.New(qerr.Conflict, "the last active SUPERADMIN cannot be demoted")
		}
		if out, err = q.SetPlatformRole(ctx, store.SetPlatformRoleParams{PlatformRole: role.String(), ID: target}); err != nil {
			return fmt.Errorf("update role: %w", err)
		}
		return audit.RecordGlobal(ctx, q, actor.UserID, audit.Event{
			Action: "user.set_platform_role", TargetType: "user", TargetID: target, Reason: from.String() + " -> " + role.String(),
		})
	})
	if err != nil {
		return nil, fmt.Errorf("set platform role of %s: %w", target, err)
	}
	return fromStore(out), nil
}

// Deactivate marks target DEACTIVATED with an optional reason (at most 500
// characters, else BAD_USER_INPUT) and revokes all their sessions, in one
// transaction with its audit event: their access and refresh tokens stop
// working on the next request, and their login links while they stay
// deactivated. Who may is
// policy.CanChangeUserStatus's (FORBIDDEN); an unknown target is NOT_FOUND;
// the last active SUPERADMIN is CONFLICT. A deactivated target is returned
// unchanged, and nothing is audited.
func (s *Service) Deactivate(ctx context.Context, actor authz.Caller, target uuid.UUID, reason *string) (*User, error) {
	why, err := trimmed("reason", reason, maxDeactivateReason)
	if err != nil {
		return nil, err
	}
	var out store.User
	err = s.Store.InTx(ctx, func(q *store.Queries) error {
		supers, u, err := lockForChange(ctx, q, target)
		if err != nil {
			return err
		}
		if err := canChangeStatus(actor, u); err != nil {
			return err
		}
		if u.Status == string(Deactivated) {
			out = u
			return nil
		}
		if lastSuperadmin(supers, target) {
			return qerr.New(qerr.Conflict, "the last active SUPERADMIN cannot be deactivated")
		}
		if out, err = q.SetUserStatus(ctx, store.SetUserStatusParams{Status: string(Deactivated), Reason: why, ID: target}); err != nil {
			return fmt.Errorf("update status: %w", err)
		}
		revoke := store.RevokeUserSessionsParams{Now: s.Now(), Reason: ptr("user deactivated"), UserID: target}
		if _, err := q.RevokeUserSessions(ctx, revoke); err != nil {
			return fmt.Errorf("revoke sessions: %w", err)
		}
		if err := q.ExpireUserLoginTokens(ctx, store.ExpireUserLoginTokensParams{UserID: target, Now: s.Now()}); err != nil {
			return fmt.Errorf("spend sign-in links: %w", err)
		}
		ev := audit.Event{Action: "user.deactivate", TargetType: "user", TargetID: target}
		if why != nil {
			ev.Reason = *why
		}
		return audit.RecordGlobal(ctx, q, actor.UserID, ev)
	})
	if err != nil {
		return nil, fmt.Errorf("deactivate user %s: %w", target, err)
	}
	return fromStore(out), nil
}

// Reactivate lets a deactivated target sign in again. Their sessions stay
// revoked: they sign in anew. Who may is policy.CanChangeUserStatus's
// (FORBIDDEN); an unknown target is NOT_FOUND. An active target is returned
// unchanged, and nothing is audited.
func (s *Service) Reactivate(ctx context.Context, actor authz.Caller, target uuid.UUID) (*User, error) {
	var out store.User
	err := s.Store.InTx(ctx, func(q *store.Queries) error {
		u, err := lockUser(ctx, q, target)
		if err != nil {
			return err
		}
		if err := canChangeStatus(actor, u); err != nil {
			return err
		}
		if u.Status == string(Active) {
			out = u
			return nil
		}
		if out, err = q.SetUserStatus(ctx, store.SetUserStatusParams{Status: string(Active), ID: target}); err != nil {
			return fmt.Errorf("update status: %w", err)
		}
		return audit.RecordGlobal(ctx, q, actor.UserID, audit.Event{Action: "user.reactivate", TargetType: "user", TargetID: target})
	})
	if err != nil {
		return nil, fmt.Errorf("reactivate user %s: %w", target, err)
	}
	return fromStore(out), nil
}

// lockForChange locks every active SUPERADMIN, then target (NOT_FOUND if
// there is none). Every change that can remove a SUPERADMIN takes the locks
// in this one order, so two of them never deadlock, and neither can count on
// a SUPERADMIN the other is removing: the second waits, and then sees the
// first's result.
func lockForChange(ctx context.Context, q *store.Queries, target uuid.UUID) ([]uuid.UUID, store.User, error) {
	supers, err := q.LockActiveSuperadmins(ctx)
	if err != nil {
		return nil, store.User{}, fmt.Errorf("lock superadmins: %w", err)
	}
	u, err := lockUser(ctx, q, target)
	return supers, u, err
}

// lockUser loads target FOR UPDATE, NOT_FOUND if there is none.
func lockUser(ctx context.Context, q *store.Queries, target uuid.UUID) (store.User, error) {
	u, err := q.GetUserForUpdate(ctx, target)
	if err == store.ErrNoRows {
		return store.User{}, qerr.New(qerr.NotFound, "user not found")
	}
	if err != nil {
		return store.User{}, fmt.Errorf("lock user: %w", err)
	}
	return u, nil
}

// lastSuperadmin reports whether target is the only active SUPERADMIN of
// supers, as LockActiveSuperadmins returned them.
func lastSuperadmin(supers []uuid.UUID, target uuid.UUID) bool {
	return len(supers) == 1 && supers[0] == target
}

func canChangeStatus(actor authz.Caller, u store.User) error {
	d := policy.CanChangeUserStatus(policy.ID(actor.UserID), actor.PlatformRole, policy.ID(u.ID), roleOf(u))
	if !d.Allowed {
		return qerr.Denied("", d.Reason)
	}
	return nil
}

// roleOf returns u's platform role. A role the policy does not know (the
// column's CHECK admits none) comes back as one outside the known range,
// which every platform decision denies.
func roleOf(u store.User) policy.PlatformRole {
	r, ok := policy.ParsePlatformRole(u.PlatformRole)
	if !ok {
		return policy.PlatformRole(math.MaxUint8)
	}
	return r
}

// trimmed trims an optional text input: empty becomes nil; longer than max
// characters, NUL or invalid UTF-8 is BAD_USER_INPUT naming field.
func trimmed(field string, v *string, max int) (*string, error) {
	if v == nil {
		return nil, nil
	}
	t := strings.TrimSpace(*v)
	if t == "" {
		return nil, nil
	}
	if utf8.RuneCountInString(t) > max {
		return nil, qerr.Invalid(field, "%s must be at most %d characters", field, max)
	}
	// PostgreSQL's text holds neither NUL nor invalid UTF-8; its refusal
	// would reach the client as INTERNAL.
	if !utf8.ValidString(t) || strings.ContainsRune(t, 0) {
		return nil, qerr.Invalid(field, "%s must be UTF-8 text without NUL characters", field)
	}
	return &t, nil
}

// Cursor returns the opaque cursor of the i-th user of the page.
func (pg *UserPage) Cursor(i int) string {
	u := pg.Users[i]
	return page.Cursor{Time: u.CreatedAt, ID: u.ID}.Encode()
}

// likeEscaper escapes LIKE's wildcards and its escape character, so a query
// matches literally.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// userPrefix turns a search query into the LIKE prefix ListUsers and
// CountUsers take: trimmed, lowercased, wildcards escaped; nil matches
// everyone. Longer than 100 characters is BAD_USER_INPUT.
func userPrefix(query *string) (*string, error) {
	q, err := trimmed("query", query, maxUserQuery)
	if q == nil || err != nil {
		return nil, err
	}
	p := likeEscaper.Replace(strings.ToLower(*q))
	return &p, nil
}

// List returns a page of users, newest first, whose email or display name
// starts with query (case-insensitive, taken literally). A first outside
// 1..100, an after not from this list, or a query longer than 100
// characters is BAD_USER_INPUT. The directive @platformRole(ADMIN) gates it.
func (s *Service) List(ctx context.Context, first *int, after *string, query *string) (*UserPage, error) {
	size, err := page.Size(first)
	if err != nil {
		return nil, err
	}
	cur, err := page.Decode(after)
	if err != nil {
		return nil, err
	}
	prefix, err := userPrefix(query)
	if err != nil {
		return nil, err
	}
	params := store.ListUsersParams{Prefix: prefix, Lim: int32(size + 1)} // one more tells whether a next page exists
	if cur != nil {
		params.AfterCreatedAt, params.AfterID = &cur.Time, &cur.ID
	}
	rows, err := s.Store.Global().ListUsers(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	pg := &UserPage{HasNext: len(rows) > size, Users: make([]*User, 0, min(len(rows), size))}
	for _, r := range rows[:min(len(rows), size)] {
		pg.Users = append(pg.Users, fromStore(r))
	}
	return pg, nil
}

// Count returns how many users List would return over all its pages for
// query; a query longer than 100 characters is BAD_USER_INPUT.
func (s *Service) Count(ctx context.Context, query *string) (int, error) {
	prefix, err := userPrefix(query)
	if err != nil {
		return 0, err
	}
	n, err := s.Store.Global().CountUsers(ctx, prefix)
	if err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return int(n), nil
}
