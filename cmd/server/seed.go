package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/quirehq/quire/internal/account"
	"github.com/quirehq/quire/internal/authn"
	"github.com/quirehq/quire/internal/authz"
	"github.com/quirehq/quire/internal/org"
	"github.com/quirehq/quire/internal/store"
)

const seedSynopsis = "quire admin seed [--orgs N] [--notes-per-org M] [--members-per-org K] [--tokens FILE] [--body FILE]"

// seedUsage is printed under the flags: what seed makes and what it does not.
const seedUsage = `
Development and benchmarks only; refuses to run with QUIRE_ENV=production.
Every run adds a new set: emails and org names carry a random run tag
(user<j>@org<i>.<tag>.seed.example), so seeding twice doubles the data.
The access tokens written by --tokens are valid for 15 minutes: seed right
before the load that uses them.
`

// seedBody is the request --body writes: the benchmark's read, the first
// 20 notes of the token's organization with their authors.
const seedBody = `{"query":"{ notes(first: 20) { edges { node { id title body tags createdAt author { email } } } } }"}` + "\n"

// seedWorkers is how many organizations are filled at once.
const seedWorkers = 4

type seedOptions struct {
	orgs, notes, members int
	tokens, body         string
}

func runSeed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin seed", flag.ContinueOnError)
	var o seedOptions
	fs.IntVar(&o.orgs, "orgs", 100, "organizations to create")
	fs.IntVar(&o.notes, "notes-per-org", 1000, "notes per organization (every 20th in the trash)")
	fs.IntVar(&o.members, "members-per-org", 10, "members per organization: one owner, the rest editors and viewers")
	fs.StringVar(&o.tokens, "tokens", "", "write one access token per organization (its owner's) to `FILE`, one a line")
	fs.StringVar(&o.body, "body", "", "write the benchmark's GraphQL request body to `FILE`")
	if err := parseFlags(fs, args, stderr, seedSynopsis); err != nil {
		if ee, ok := err.(exitError); ok && ee.code == 0 { // --help
			fmt.Fprint(stderr, seedUsage)
		}
		return err
	}
	if fs.NArg() > 0 || o.orgs < 1 || o.notes < 0 || o.members < 1 || o.orgs > 100_000 || o.notes > 10_000_000 || o.members > 1000 {
		fs.Usage()
		return exitError{code: 2, err: errors.New("want --orgs ≥ 1, --notes-per-org ≥ 0 and --members-per-org ≥ 1, and no arguments")}
	}
	errProduction := exitError{code: 1, err: errors.New("admin seed refuses to run in production (QUIRE_ENV=production): it writes throwaway data")}
	// Checked before the configuration loads, so a production environment
	// missing a variable is still told this first.
	if strings.EqualFold(strings.TrimSpace(getenv("QUIRE_ENV")), "production") {
		return errProduction
	}
	cfg, logger, db, err := setup(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close(logger)
	if cfg.Production() {
		return errProduction
	}
	if err := db.migrateUp(ctx, logger); err != nil {
		return err
	}
	var accounts *account.Service
	st, err := store.Open(ctx, db.AppURL, seedWorkers+1)
	if err != nil {
		return err
	}
	defer st.Close()
	if o.tokens != "" {
		key, err := secret(cfg)
		if err != nil {
			return err
		}
		accounts = &account.Service{Store: st, Tokens: authn.NewTokens(key, time.Now), Logger: logger, RefreshTTL: cfg.RefreshTTL, Now: time.Now}
	}

	start := time.Now()
	tag := runTag()
	tokens, err := seed(ctx, st, accounts, o, tag)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	analyzed := "skipped (DATABASE_MIGRATE_URL unset)"
	if db.MigrateURL != "" {
		t := time.Now()
		if err := vacuumAnalyze(ctx, db.MigrateURL); err != nil {
			return err
		}
		analyzed = fmt.Sprintf("%.1fs", time.Since(t).Seconds())
	}
	if o.tokens != "" {
		if err := os.WriteFile(o.tokens, []byte(strings.Join(tokens, "\n")+"\n"), 0o600); err != nil {
			return err
		}
	}
	if o.body != "" {
		if err := os.WriteFile(o.body, []byte(seedBody), 0o644); err != nil {
			return err
		}
	}
	trashed := o.notes / 20
	fmt.Fprintf(stderr, "seeded %d orgs, %d users, %d notes (%d trashed) in %.1fs; vacuum analyze %s; run tag %s\n",
		o.orgs, o.orgs*o.members, o.orgs*o.notes, o.orgs*trashed, elapsed.Seconds(), analyzed, tag)
	if o.tokens != "" {
		fmt.Fprintf(stderr, "access tokens in %s expire at %s\n", o.tokens, time.Now().Add(authn.AccessTTL).Format(time.RFC3339))
	}
	return nil
}

// runTag tells one seeding run's users and organizations from another's.
func runTag() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// seed creates the users, then fills organizations seedWorkers at a time,
// and returns one access token per organization, in order, if accounts is
// set.
func seed(ctx context.Context, st *store.Store, accounts *account.Service, o seedOptions, tag string) ([]string, error) {
	emails := make([]string, 0, o.orgs*o.members)
	for i := 1; i <= o.orgs; i++ {
		for j := 1; j <= o.members; j++ {
			emails = append(emails, fmt.Sprintf("user%d@org%d.%s.seed.example", j, i, tag))
		}
	}
	var users []store.SeedUsersRow
	err := st.InTx(ctx, func(q *store.Queries) error {
		var err error
		users, err = q.SeedUsers(ctx, emails)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create users: %w", err)
	}
	if len(users) != len(emails) {
		return nil, fmt.Errorf("create users: %d of %d created", len(users), len(emails))
	}
	tokens := make([]string, o.orgs)
	orgs := &org.Service{Store: st}
	one := func(ctx context.Context, i int) error {
		members := make([]uuid.UUID, o.members)
		for j := range members {
			members[j] = users[i*o.members+j].ID
		}
		orgID, err := seedOrg(ctx, orgs, st, fmt.Sprintf("Seed org %d %s", i+1, tag), members, o.notes)
		if err != nil {
			return fmt.Errorf("org %d: %w", i+1, err)
		}
		if accounts == nil {
			return nil
		}
		if tokens[i], err = seedToken(ctx, accounts, orgs, members[0], orgID); err != nil {
			return fmt.Errorf("org %d: token: %w", i+1, err)
		}
		return nil
	}
	// Workers take organizations in turn; the first error cancels the rest.
	wctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range seedWorkers {
		wg.Go(func() {
			for i := range next {
				if err := one(wctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
	for i := range o.orgs {
		if wctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := context.Cause(wctx); err != nil {
		return nil, err
	}
	return tokens, nil
}

// seedOrg creates an organization owned by members[0] through the org
// service (modules, owner role, audit event), then, as the owner inside the
// organization's wall, adds the others (editors and viewers alternately)
// and count notes with their first revisions: one statement each.
func seedOrg(ctx context.Context, orgs *org.Service, st *store.Store, name string, members []uuid.UUID, count int) (uuid.UUID, error) {
	o, err := orgs.Create(ctx, members[0], org.CreateInput{Name: name})
	if err != nil {
		return uuid.Nil, err
	}
	return o.ID, st.InOrgTx(ctx, o.ID, members[0], func(q *store.Queries) error {
		editor, err := q.GetBuiltInRole(ctx, "editor")
		if err != nil {
			return fmt.Errorf("find role editor: %w", err)
		}
		viewer, err := q.GetBuiltInRole(ctx, "viewer")
		if err != nil {
			return fmt.Errorf("find role viewer: %w", err)
		}
		for j, u := range members[1:] {
			role := editor.ID
			if j%2 == 1 {
				role = viewer.ID
			}
			if _, err := org.AddMember(ctx, q, o.ID, u, []uuid.UUID{role}); err != nil {
				return err
			}
		}
		if count == 0 {
			return nil
		}
		if _, err := q.SeedNotes(ctx, store.SeedNotesParams{OrgID: o.ID, AuthorIds: members, Newest: time.Now(), Count: int32(count)}); err != nil {
			return fmt.Errorf("insert notes: %w", err)
		}
		if _, err := q.SeedNoteRevisions(ctx, o.ID); err != nil {
			return fmt.Errorf("insert revisions: %w", err)
		}
		return nil
	})
}

// seedToken signs user in and switches the session to org, as a client
// does after sign-in, and returns the access token: requests with it need
// no X-Organization-Id header.
func seedToken(ctx context.Context, accounts *account.Service, orgs *org.Service, user, orgID uuid.UUID) (string, error) {
	p, err := accounts.IssueFor(ctx, user)
	if err != nil {
		return "", err
	}
	id, err := accounts.Tokens.Verify(p.AccessToken)
	if err != nil {
		return "", err
	}
	if _, err := orgs.Switch(ctx, authz.Caller{UserID: user, SessionID: id.SessionID}, orgID); err != nil {
		return "", fmt.Errorf("switch organization: %w", err)
	}
	return p.AccessToken, nil
}

// vacuumAnalyze refreshes the planner's statistics and the visibility map
// after the bulk load, as the owner role (the app role owns no table).
func vacuumAnalyze(ctx context.Context, ownerURL string) error {
	conn, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		return fmt.Errorf("vacuum analyze: %w", err)
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, "VACUUM (ANALYZE) users, organizations, memberships, membership_roles, notes, note_revisions")
	if err != nil {
		return fmt.Errorf("vacuum analyze: %w", err)
	}
	return nil
}
