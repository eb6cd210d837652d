package note_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/quirehq/quire/internal/note"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/store"
)

// TestGrowth measures how the reads of a list grow with the organization:
// the first page, a page deep in the list (after 50 pages of cursors) and a
// search, each the median of many runs, with 10,000 notes and then with
// 1,000,000 (QUIRE_GROWTH_NOTES overrides the large size). It fails if a
// median grows more than 1.5×, if a plan reads notes other than through an
// index, or if a list statement counts or skips rows (OFFSET).
//
// The search term matches 50 notes at either size: a search costs what it
// finds (ranking needs every match), and what it finds is bounded by the
// term, not by the organization's size.
//
// Seeding a million notes takes minutes, so the test runs only when asked:
// QUIRE_GROWTH=1, or `make bench-growth`.
func TestGrowth(t *testing.T) {
	if os.Getenv("QUIRE_GROWTH") == "" {
		t.Skip("set QUIRE_GROWTH=1 (make bench-growth): it seeds a million notes")
	}
	large := 1_000_000
	if v := os.Getenv("QUIRE_GROWTH_NOTES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 10_000 {
			t.Fatalf("QUIRE_GROWTH_NOTES=%q: want a number ≥ 10000", v)
		}
		large = n
	}
	sizes := []int{10_000, large}
	ops := []string{"first page", "page 51", "search"}
	medians := map[int]map[string]time.Duration{}
	for _, n := range sizes {
		medians[n] = measureGrowth(t, n)
	}
	t.Logf("%-12s %12s %12s %8s", "read", fmt.Sprintf("%d notes", sizes[0]), fmt.Sprintf("%d notes", sizes[1]), "growth")
	for _, op := range ops {
		small, big := medians[sizes[0]][op], medians[sizes[1]][op]
		ratio := float64(big) / float64(small)
		t.Logf("%-12s %12s %12s %7.2f×", op, small.Round(time.Microsecond), big.Round(time.Microsecond), ratio)
		if ratio > 1.5 {
			t.Errorf("%s: median %v with %d notes against %v with %d: grows %.2f×, want ≤ 1.5×",
				op, big, sizes[1], small, sizes[0], ratio)
		}
	}
}

// statementLog keeps the statements (and their arguments) of the app's pool.
type statementLog struct {
	mu   sync.Mutex
	on   bool
	stmt []pgx.TraceBatchQueryData
}

func (l *statementLog) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}
func (l *statementLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (l *statementLog) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}
func (l *statementLog) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
func (l *statementLog) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.on {
		l.stmt = append(l.stmt, d)
	}
}

// capture runs fn and returns the statement it sent with a name (the sqlc
// query, not BEGIN or app_enter).
func (l *statementLog) capture(t *testing.T, fn func()) pgx.TraceBatchQueryData {
	t.Helper()
	l.mu.Lock()
	l.on, l.stmt = true, nil
	l.mu.Unlock()
	fn()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.on = false
	for _, s := range l.stmt {
		if strings.HasPrefix(s.SQL, "-- name: ") {
			return s
		}
	}
	t.Fatalf("no query among %d statements", len(l.stmt))
	return pgx.TraceBatchQueryData{}
}

// measureGrowth seeds an organization of n notes and returns the median
// time of each read.
func measureGrowth(t *testing.T, n int) map[string]time.Duration {
	e := newEnv(t)
	log := &statementLog{}
	st, err := store.Open(t.Context(), e.db.AppURL, 4, store.WithTracer(log))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	svc := &note.Service{Store: st, Now: time.Now}
	owner := e.user(t, "owner")
	p := e.org(t, owner, "Big")
	start := time.Now()
	seedNotes(t, e, p, owner, n)
	t.Logf("%d notes seeded in %v", n, time.Since(start).Round(time.Second))

	first, search := 20, "zephyr"
	list := func(after *string) *note.Page {
		pg, err := svc.List(t.Context(), p, &first, after, note.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		return pg
	}
	var cursor *string
	for range 50 {
		pg := list(cursor)
		c := pg.Cursor(len(pg.Notes) - 1)
		cursor = &c
	}
	reads := map[string]func(){
		"first page": func() { list(nil) },
		"page 51":    func() { list(cursor) },
		"search": func() {
			pg, err := svc.List(t.Context(), p, &first, nil, note.Filter{Search: &search})
			if err != nil {
				t.Fatal(err)
			}
			if len(pg.Notes) != 20 {
				t.Fatalf("search found %d notes on its first page, want 20 of 50", len(pg.Notes))
			}
		},
	}
	out := map[string]time.Duration{}
	for name, read := range reads {
		q := log.capture(t, read)
		checkPlan(t, e, p, name, n, q)
		for range 20 { // warm the caches and the prepared statements
			read()
		}
		times := make([]time.Duration, 201)
		for i := range times {
			start := time.Now()
			read()
			times[i] = time.Since(start)
		}
		slices.Sort(times)
		out[name] = times[len(times)/2]
	}
	return out
}

// seedNotes inserts n notes into p's organization in one statement, as the
// superuser with triggers off (a bulk load, not the API's path), writes
// their search documents, and analyses the table. 50 of them, spread evenly, mention "zephyr".
func seedNotes(t *testing.T, e *env, p policy.Principal, author uuid.UUID, n int) {
	t.Helper()
	ctx := t.Context()
	conn, err := e.db.Super(t).Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	_, err = conn.Exec(ctx, `SET session_replication_role = replica`)
	if err == nil {
		_, err = conn.Exec(ctx, `
			INSERT INTO notes (id, org_id, author_id, title, body, tags, created_at, updated_at)
			SELECT gen_random_uuid(), $1, $2, 'Note ' || i,
			       CASE WHEN i % ($3 / 50) = 0 THEN 'zephyr ' ELSE '' END
			         || repeat('lorem ipsum dolor sit amet ', 19),
			       ARRAY['t' || (i % 10), 'seed'],
			       timestamptz '2030-01-01' + i * interval '1 second',
			       timestamptz '2030-01-01' + i * interval '1 second'
			FROM generate_series(1, $3::int) AS i`, uuid.UUID(p.OrgID), author, n)
	}
	if err == nil { // what the search trigger would have written
		_, err = conn.Exec(ctx, `
			INSERT INTO note_search (note_id, org_id, doc)
			SELECT id, org_id, setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B')
			FROM notes WHERE org_id = $1`, uuid.UUID(p.OrgID))
	}
	if err == nil {
		_, err = conn.Exec(ctx, `RESET session_replication_role`)
	}
	if err == nil {
		_, err = conn.Exec(ctx, `VACUUM ANALYZE notes`)
	}
	if err != nil {
		t.Fatalf("seed %d notes: %v", n, err)
	}
}

// checkPlan explains q as the app role would run it and fails if it reads
// notes other than through an index, counts, or skips rows.
func checkPlan(t *testing.T, e *env, p policy.Principal, name string, n int, q pgx.TraceBatchQueryData) {
	t.Helper()
	sql := strings.ToLower(q.SQL)
	if strings.Contains(sql, "offset") || strings.Contains(sql, "count(") {
		t.Errorf("%s: the statement skips or counts rows:\n%s", name, q.SQL)
	}
	var plan []string
	conn, err := e.db.App(t).Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	tx, err := conn.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(t.Context()) }()
	// app_enter, as every tenant transaction, which also makes the plans
	// generic (migration 00014): explain the plan the server runs, made
	// once for any organization, not one made for these arguments.
	if _, err := tx.Exec(t.Context(), `SELECT app_enter($1, $2, NULL, NULL, NULL, NULL, NULL, NULL)`,
		uuid.UUID(p.OrgID), uuid.UUID(p.UserID)); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), "PREPARE growth_plan AS "+q.SQL); err != nil {
		t.Fatalf("%s: prepare: %v", name, err)
	}
	params := make([]string, len(q.Args))
	for i := range params {
		params[i] = fmt.Sprintf("$%d", i+1)
	}
	// EXECUTE's arguments are not parameters of the extended protocol:
	// pgx writes them into the statement.
	args := append([]any{pgx.QueryExecModeSimpleProtocol}, q.Args...)
	rows, err := tx.Query(t.Context(), "EXPLAIN EXECUTE growth_plan("+strings.Join(params, ", ")+")", args...)
	if err != nil {
		t.Fatalf("%s: explain: %v", name, err)
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), "DEALLOCATE growth_plan"); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(plan, "\n")
	if !strings.Contains(text, "$1") {
		t.Errorf("%s: the plan explained is not the generic one:\n%s", name, text)
	}
	if strings.Contains(sql, "(notes.created_at, notes.id) <") && !strings.Contains(text, "AND (ROW(created_at, id) < ROW(") {
		t.Errorf("%s: the cursor is not in the index condition, so a deep page reads every row before it:\n%s", name, text)
	}
	if strings.Contains(text, "Seq Scan on notes") || !strings.Contains(text, "Index") {
		t.Errorf("%s with %d notes does not read notes through an index:\n%s", name, n, text)
	}
	if testing.Verbose() {
		t.Logf("%s with %d notes:\n%s", name, n, text)
	}
}
