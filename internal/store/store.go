// Package store is Quire's only door to PostgreSQL: the sqlc queries of
// sql/queries (generated into this package, never edited) and the
// transactions they run in.
//
// Tenant data is touched only inside InOrgTx, which sets app.org_id and
// app.user_id for the transaction; row-level security keys on them, so a
// tenant query run anywhere else sees no rows.
package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/quirehq/quire/internal/qerr"
)

// ErrNoRows is what a :one query returns when nothing matched.
var ErrNoRows = pgx.ErrNoRows

// Store runs transactions on a pool connected as the app role.
type Store struct {
	pool  *pgxpool.Pool
	stats *Stats
}

// Option adjusts the pool Open builds.
type Option func(*pgxpool.Config)

// WithTracer traces every statement the pool's connections run (tests count
// them to prove a query is not N+1).
func WithTracer(t pgx.QueryTracer) Option {
	return func(c *pgxpool.Config) { c.ConnConfig.Tracer = t }
}

// WithSessionTimeouts sets statement_timeout and
// idle_in_transaction_session_timeout on every connection of the pool, as
// startup parameters: PostgreSQL then ends a statement that runs longer, or
// a transaction left idle longer, even if the process that started it hangs
// or its request has long gone. Zero leaves the server's setting.
func WithSessionTimeouts(statement, idleInTx time.Duration) Option {
	return func(c *pgxpool.Config) {
		if statement > 0 {
			c.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(max(1, statement.Milliseconds()), 10)
		}
		if idleInTx > 0 {
			c.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = strconv.FormatInt(max(1, idleInTx.Milliseconds()), 10)
		}
	}
}

// Open connects to url with a pool of at most maxConns connections (0 keeps
// pgx's default) and checks that the database answers.
func Open(ctx context.Context, url string, maxConns int32, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	// google/uuid as 16 bytes (uuid.go).
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		registerUUID(c.TypeMap())
		return nil
	}
	for _, o := range opts {
		o(cfg)
	}
	stats := &Stats{}
	cfg.ConnConfig.Tracer = countingTracer{stats: stats, next: cfg.ConnConfig.Tracer}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("ping database: %w", err)
	}
	return &Store{pool: pool, stats: stats}, nil
}

// Close closes the pool.
func (s *Store) Close() { s.pool.Close() }

// Ping checks that the database answers; /readyz uses it.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// CheckRole refuses a connection role that would make row-level security
// moot: a superuser, a role with BYPASSRLS, a member of such a role, or one
// that owns a table in the public schema directly or through membership,
// since FORCE ROW LEVEL SECURITY is the only thing holding an owner and one
// ALTER TABLE drops it. Membership counts even without INHERIT: SET ROLE
// needs no more.
func (s *Store) CheckRole(ctx context.Context) error {
	var (
		role          string
		super, bypass bool
		escalates     []string
		owned         []string
	)
	err := s.pool.QueryRow(ctx, `
		SELECT current_user, r.rolsuper, r.rolbypassrls,
		       ARRAY(SELECT x.rolname::text FROM pg_roles x
		             WHERE (x.rolsuper OR x.rolbypassrls) AND x.rolname <> current_user
		               AND pg_has_role(current_user, x.oid, 'MEMBER')
		             ORDER BY x.rolname LIMIT 5),
		       ARRAY(SELECT c.relname::text FROM pg_class c
		             WHERE c.relnamespace = 'public'::regnamespace
		               AND c.relkind IN ('r', 'p')
		               AND pg_has_role(current_user, c.relowner, 'MEMBER')
		             ORDER BY c.relname LIMIT 5)
		FROM pg_roles r WHERE r.rolname = current_user`).Scan(&role, &super, &bypass, &escalates, &owned)
	if err != nil {
		return fmt.Errorf("inspect database role: %w", err)
	}
	var problems []string
	if super {
		problems = append(problems, "is a superuser")
	}
	if bypass {
		problems = append(problems, "has BYPASSRLS")
	}
	if len(escalates) > 0 {
		problems = append(problems, "can SET ROLE to superuser or BYPASSRLS roles ("+strings.Join(escalates, ", ")+")")
	}
	if len(owned) > 0 {
		problems = append(problems, "owns tables ("+strings.Join(owned, ", ")+")")
	}
	if len(problems) > 0 {
		return fmt.Errorf("database role %q %s: the server must run as a role that row-level security holds; "+
			"connect DATABASE_URL as the app role (README, Production)", role, strings.Join(problems, " and "))
	}
	return nil
}

// InOrgTx runs fn in a transaction in which row-level security admits the
// rows of org as seen by user, and commits if fn returns nil. Either id may
// be uuid.Nil: no organization admits no tenant row; no user admits no
// PRIVATE note and no membership by user. fn receives only queries, so it
// cannot open a nested transaction through them. Errors are mapped to qerr
// codes (see mapError).
//
// The transaction opens lazily, in the round trip of fn's first statement:
// BEGIN, app_enter (the tenant settings, and the checks of the context's
// Guard) and that statement go to the server as one pipeline. A read of one
// statement costs two round trips in all, the second being COMMIT; an fn that
// runs no statement costs none. If the guard's check fails, nothing else
// runs and InOrgTx returns ErrStale.
func (s *Store) InOrgTx(ctx context.Context, org, user uuid.UUID, fn func(q *Queries) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return mapError(fmt.Errorf("acquire connection: %w", err))
	}
	defer conn.Release()
	tx := &lazyTx{conn: conn, guard: GuardFrom(ctx)}
	tx.enter, tx.version = tx.guard.enterArgs(org, user)
	defer func() {
		if tx.begun && !tx.done {
			rollback(conn)
		}
	}()
	if err := fn(New(tx)); err != nil {
		return mapError(err)
	}
	if !tx.begun {
		return nil
	}
	tag, err := conn.Exec(ctx, "COMMIT")
	if err != nil {
		return mapError(fmt.Errorf("commit: %w", err))
	}
	tx.done = true
	// COMMIT in a transaction an error aborted rolls back and says so,
	// without an error: fn swallowed one. Nothing was written.
	if tag.String() == "ROLLBACK" {
		return errors.New("commit: the transaction had failed and was rolled back")
	}
	return nil
}

// InOrgRead is InOrgTx for a read of a single statement, in one round trip:
// app_enter and the statement go as one pipeline, without BEGIN or COMMIT.
// PostgreSQL runs what a pipeline sends before its Sync as one implicit
// transaction, so the settings app_enter makes hold for the statement and
// end with it, as in InOrgTx; a failed check skips the statement. fn must
// run at most one statement: a second is refused (errSecondStatement), since
// it would run after the implicit transaction ended.
func (s *Store) InOrgRead(ctx context.Context, org, user uuid.UUID, fn func(q *Queries) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return mapError(fmt.Errorf("acquire connection: %w", err))
	}
	defer conn.Release()
	tx := &lazyTx{conn: conn, guard: GuardFrom(ctx), single: true}
	tx.enter, tx.version = tx.guard.enterArgs(org, user)
	return mapError(fn(New(tx)))
}

// errSecondStatement refuses a second statement in InOrgRead.
var errSecondStatement = errors.New("store: InOrgRead ran a second statement; use InOrgTx")

// enterSQL opens a transaction's view of tenant data (migration 00012).
// set_config(..., true) in it is transaction-local: nothing survives into
// the next use of this pooled connection, which keeps PgBouncer's
// transaction mode safe.
const enterSQL = "SELECT app_enter($1, $2, $3, $4, $5, $6, $7, $8)"

// lazyTx is the DBTX of an InOrgTx: its first statement travels with BEGIN
// and app_enter in one pipeline; the rest run on the connection as usual.
type lazyTx struct {
	conn    *pgxpool.Conn
	guard   *Guard
	enter   []any
	version int
	begun   bool
	done    bool
	// single is InOrgRead's: no BEGIN, and no statement after the first.
	single bool
}

// begin sends BEGIN (unless single), app_enter and the first statement,
// reads the results of all but the statement, and returns the batch
// positioned at the statement's result. A second statement of a single
// read is refused.
func (t *lazyTx) begin(ctx context.Context, sql string, args []any) (pgx.BatchResults, error) {
	if t.begun {
		return nil, errSecondStatement
	}
	t.begun = true
	b := &pgx.Batch{}
	if !t.single {
		b.Queue("BEGIN")
	}
	b.Queue(enterSQL, t.enter...)
	b.Queue(sql, args...)
	br := t.conn.SendBatch(ctx, b)
	if !t.single {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return nil, fmt.Errorf("begin: %w", err)
		}
	}
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		if isStale(err) {
			t.guard.failed()
			return nil, ErrStale
		}
		return nil, fmt.Errorf("enter: %w", err)
	}
	t.guard.passed(t.version)
	return br, nil
}

func (t *lazyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if t.begun && !t.single {
		return t.conn.Exec(ctx, sql, args...)
	}
	br, err := t.begin(ctx, sql, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (t *lazyTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if t.begun && !t.single {
		return t.conn.Query(ctx, sql, args...)
	}
	br, err := t.begin(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

func (t *lazyTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if t.begun && !t.single {
		return t.conn.QueryRow(ctx, sql, args...)
	}
	br, err := t.begin(ctx, sql, args)
	if err != nil {
		return errRow{err}
	}
	return batchRow{row: br.QueryRow(), br: br}
}

// batchRows are the first statement's rows; the batch closes with them.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	closed bool
	err    error
}

func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *batchRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	r.err = r.br.Close()
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

type batchRow struct {
	row pgx.Row
	br  pgx.BatchResults
}

func (r batchRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// rollback ends the connection's transaction, with a context of its own
// (the request's may be cancelled); a connection that cannot roll back is
// closed rather than returned to the pool mid-transaction.
func rollback(conn *pgxpool.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil {
		_ = conn.Conn().Close(ctx)
	}
}

// Global returns queries that run straight on the pool, one round trip each,
// for reads of global tables (users, sessions). A tenant table read through
// it sees no rows: outside InOrgTx no organization is set.
func (s *Store) Global() *Queries { return New(s.pool) }

// InTx runs fn in a transaction with no organization and no user: global
// tables only (users, sessions, login tokens, the mail outbox).
func (s *Store) InTx(ctx context.Context, fn func(q *Queries) error) error {
	return s.InOrgTx(ctx, uuid.Nil, uuid.Nil, fn)
}

// constraintMessages names, for unique constraints a client can run into,
// what the client should be told.
var constraintMessages = map[string]string{
	"organizations_slug_key": "an organization with this slug already exists",
	"users_email_key":        "a user with this email already exists",
	"roles_org_key":          "a role with this key already exists",
}

// IsUniqueViolation reports whether err is PostgreSQL refusing a duplicate.
// After one, the transaction is aborted: return the error, do not go on.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// checkMessages names the invariants the database keeps that a client can
// run into: they are conflicts with the state, not bad input.
var checkMessages = map[string]string{
	"organizations_owner_required": "the organization must keep at least one owner: transfer ownership first",
}

// mapError turns what PostgreSQL says into qerr codes. An error that already
// is a *qerr.Error passes unchanged; what is not understood stays as it is
// and becomes INTERNAL at the edge.
func mapError(err error) error {
	if qerr.As(err) != nil {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return qerr.Wrap(err, qerr.NotFound, "not found")
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	if msg, ok := checkMessages[pgErr.ConstraintName]; ok && pgErr.Code == "23514" {
		return qerr.Wrap(err, qerr.Conflict, msg)
	}
	switch pgErr.Code {
	case "23505": // unique_violation
		msg, ok := constraintMessages[pgErr.ConstraintName]
		if !ok {
			msg = "this conflicts with an existing record"
		}
		return qerr.Wrap(err, qerr.Conflict, msg)
	case "23514", "22001", "22P02": // check_violation, string too long, invalid text
		return qerr.Wrap(err, qerr.BadUserInput, "invalid input")
	case "40001", "40P01": // serialization failure, deadlock
		return qerr.Wrap(err, qerr.Conflict, "a concurrent change got there first; retry")
	}
	return err
}
