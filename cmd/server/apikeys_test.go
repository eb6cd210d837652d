package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/quirehq/quire/internal/apikey"
	"github.com/quirehq/quire/internal/policy"
)

const (
	apiKeyFields = `id name prefix permissions createdBy { id email } createdAt expiresAt lastUsedAt revokedAt`
	createKeyOp  = `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret apiKey { ` + apiKeyFields + ` } } }`
	revokeKeyOp  = `mutation($id: ID!) { revokeApiKey(id: $id) { ` + apiKeyFields + ` } }`
	apiKeysOp    = `{ apiKeys { ` + apiKeyFields + ` } }`
	notesFirstOp = `{ notes(first: 5) { edges { node { title } } } }`
	scriptNoteOp = `mutation($t: String!) { createNote(input: {title: $t, body: "written by a script"}) { id } }`
)

type apiKeyOut struct {
	ID          string
	Name        string
	Prefix      string
	Permissions []string
	CreatedBy   struct{ ID, Email string }
	CreatedAt   time.Time
	ExpiresAt   *time.Time
	LastUsedAt  *time.Time
	RevokedAt   *time.Time
}

func keyInput(name string, perms ...string) map[string]any {
	if perms == nil {
		perms = []string{}
	}
	return map[string]any{"name": name, "permissions": perms}
}

// createKey creates a key as c with perms and returns it, and a caller that
// presents its secret.
func (e *env) createKey(c caller, name string, perms ...string) (apiKeyOut, caller) {
	e.t.Helper()
	return e.createKeyWith(c, keyInput(name, perms...))
}

func (e *env) createKeyWith(c caller, in map[string]any) (apiKeyOut, caller) {
	e.t.Helper()
	var out struct {
		Secret string
		APIKey apiKeyOut `json:"apiKey"`
	}
	e.post(c, createKeyOp, map[string]any{"in": in}).ok(e.t).decode(e.t, "createApiKey", &out)
	if !strings.HasPrefix(out.Secret, out.APIKey.Prefix+"_") || len(out.Secret) != apikey.Len {
		e.t.Fatalf("secret %q does not start with the prefix %q or is not %d long", out.Secret, out.APIKey.Prefix, apikey.Len)
	}
	return out.APIKey, caller{token: out.Secret}
}

// noteTitles returns the titles notes(first: 5) shows c, failing on any
// error.
func (e *env) noteTitles(c caller) []string {
	e.t.Helper()
	var conn struct {
		Edges []struct{ Node struct{ Title string } }
	}
	e.post(c, notesFirstOp, nil).ok(e.t).decode(e.t, "notes", &conn)
	titles := []string{}
	for _, edge := range conn.Edges {
		titles = append(titles, edge.Node.Title)
	}
	return titles
}

// wantDenied fails unless r is FORBIDDEN naming permission (may be "") and,
// if reason is set, giving it.
func wantDenied(t testing.TB, what string, r gqlResponse, permission, reason string) {
	t.Helper()
	wantCode(t, what, r, "FORBIDDEN")
	ext := r.Errors[0].Extensions
	if got, _ := ext["permission"].(string); got != permission {
		t.Errorf("%s: permission %q, want %q", what, got, permission)
	}
	if got, _ := ext["reason"].(string); reason != "" && got != reason {
		t.Errorf("%s: reason %q, want %q", what, got, reason)
	}
}

// TestAPIKeyReadsNotes: a notes:read key lists notes as Authorization:
// Bearer <secret>, acts for its creator (me), may use nothing beyond its
// scopes, and is pinned to its organization.
func TestAPIKeyReadsNotes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	e.createNote(owner.in(acme), "Roadmap", nil)
	other := e.createOrg(owner, "Other")
	stranger := e.signUp("stranger@example.com", policy.PlatformUser)
	foreign := e.createOrg(stranger, "Foreign")

	k, key := e.createKey(owner.in(acme), "reporting", "notes:read")
	want := apiKeyOut{ID: k.ID, Name: "reporting", Prefix: k.Prefix, Permissions: []string{"notes:read"}, CreatedAt: k.CreatedAt}
	want.CreatedBy.ID, want.CreatedBy.Email = owner.id.String(), owner.email
	if diff := cmp.Diff(want, k); diff != "" || !strings.HasPrefix(k.Prefix, apikey.Prefix) {
		t.Errorf("createApiKey (-want +got):\n%s", diff)
	}
	if got := e.noteTitles(key); !slices.Equal(got, []string{"Roadmap"}) {
		t.Errorf("notes through the key = %v, want [Roadmap]", got)
	}
	var me struct{ ID string }
	e.post(key, meOp, nil).ok(t).decode(t, "me", &me)
	if me.ID != owner.id.String() {
		t.Errorf("me through the key = %s, want its creator %s", me.ID, owner.id)
	}
	if got := e.permissionsOf(key); !slices.Equal(got, []string{"notes:read"}) {
		t.Errorf("myPermissions through the key = %v, want its one scope", got)
	}
	wantDenied(t, "createNote", e.post(key, scriptNoteOp, map[string]any{"t": "nope"}), "notes:create", "")
	if got := e.noteTitles(owner.in(acme)); !slices.Equal(got, []string{"Roadmap"}) {
		t.Errorf("notes after the refused createNote = %v", got)
	}
	// X-Organization-Id cannot move a key, not even into another org of its
	// creator's; naming its own org is harmless.
	e.noteTitles(caller{token: key.token, org: acme})
	for name, org := range map[string]string{"creator's other org": other, "foreign org": foreign} {
		wantCode(t, name, e.post(caller{token: key.token, org: org}, notesFirstOp, nil), "NOT_FOUND")
	}
}

// TestAPIKeySecretOnlyOnce: the secret is in createApiKey's answer and
// nowhere else: not in apiKeys, not in any table (only its SHA-256 is), not
// in the log.
func TestAPIKeySecretOnlyOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	k, key := e.createKey(owner.in(acme), "ci", "notes:read", "notes:create", "apikeys:read")
	e.post(key, scriptNoteOp, map[string]any{"t": "from ci"}).ok(t) // audited through the key
	e.noteTitles(key)
	e.post(caller{token: corruptKey(key.token)}, notesFirstOp, nil) // a refused key logs
	listed := e.post(owner.in(acme), apiKeysOp, nil).ok(t)
	byKey := e.post(key, apiKeysOp, nil).ok(t)
	e.app.keys.Wait()

	secret := strings.TrimPrefix(key.token, k.Prefix+"_")[:40] // the secret, without the checksum
	for name, data := range map[string]any{"apiKeys": listed.Data, "apiKeys through the key": byKey.Data} {
		b, _ := json.Marshal(data)
		if strings.Contains(string(b), secret) || !strings.Contains(string(b), k.Prefix) {
			t.Errorf("%s shows the secret or not the prefix: %s", name, b)
		}
	}
	if log := e.log.String(); strings.Contains(log, secret) || !strings.Contains(log, `"msg":"request"`) {
		t.Errorf("the log contains the secret, or is not the log this test relies on:\n%s", log)
	}
	if tables := e.tablesContaining(secret); len(tables) > 0 {
		t.Errorf("the secret is stored in plain text in %v", tables)
	}
	tok, err := apikey.Parse(key.token)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	err = e.db.Super(t).QueryRow(t.Context(), `SELECT count(*) FROM api_keys WHERE id = $1 AND prefix = $2 AND secret_hash = $3`,
		k.ID, k.Prefix, tok.SecretHash()).Scan(&n)
	if err != nil || n != 1 {
		t.Errorf("rows with the key's prefix and SHA-256: %d, %v; want 1", n, err)
	}
}

// tablesContaining returns the tables of the public schema where some row,
// as JSON text, contains s.
func (e *env) tablesContaining(s string) []string {
	e.t.Helper()
	super := e.db.Super(e.t)
	rows, err := super.Query(e.t.Context(),
		`SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
	if err != nil {
		e.t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) < 10 {
		e.t.Fatalf("tables %v, %v: want every table of the schema", tables, err)
	}
	var found []string
	for _, table := range tables {
		var n int
		q := `SELECT count(*) FROM ` + pgx.Identifier{table}.Sanitize() + ` t WHERE row_to_json(t)::text LIKE '%' || $1 || '%'`
		if err := super.QueryRow(e.t.Context(), q, s).Scan(&n); err != nil {
			e.t.Fatal(err)
		}
		if n > 0 {
			found = append(found, table)
		}
	}
	return found
}

// corruptKey changes the last character of a key (its checksum), so that it
// is well-formed but its checksum does not match.
func corruptKey(key string) string {
	last := byte('A')
	if key[len(key)-1] == last {
		last = 'B'
	}
	return key[:len(key)-1] + string(last)
}

// TestAPIKeyFollowsItsCreator: a key's permissions are its scopes ∩ what its
// creator holds now: demoting the creator cuts the key's notes:create on the
// next request, and removing the creator cuts the key altogether.
func TestAPIKeyFollowsItsCreator(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	alice := e.signUp("alice@example.com", policy.PlatformUser)
	e.addMember(acme, alice, "admin")
	_, key := e.createKey(alice.in(acme), "sync", "notes:read", "notes:create")
	e.post(key, scriptNoteOp, map[string]any{"t": "while admin"}).ok(t)

	viewer := e.roleIDsByKey(owner.in(acme))["viewer"]
	e.post(owner.in(acme), setMemberRolesOp, setRolesVars(alice.id, viewer)).ok(t)
	wantDenied(t, "createNote after the demotion", e.post(key, scriptNoteOp, map[string]any{"t": "after"}), "notes:create", "")
	if got := e.permissionsOf(key); !slices.Equal(got, []string{"notes:read"}) {
		t.Errorf("myPermissions after the demotion = %v, want [notes:read]", got)
	}
	if got := e.noteTitles(key); !slices.Equal(got, []string{"while admin"}) {
		t.Errorf("notes after the demotion = %v", got)
	}

	e.post(owner.in(acme), removeMemberOp, map[string]any{"u": alice.id}).ok(t)
	r := wantCode(t, "notes after the creator's removal", e.post(key, notesFirstOp, nil), "UNAUTHENTICATED")
	if msg := r.Errors[0].Message; !strings.Contains(msg, "creator") {
		t.Errorf("message %q does not say the creator left", msg)
	}
}

// TestAPIKeyDiesWithItsCreatorsAccount: deactivating the creator cuts the
// key on its next request, with the answer of any key that does not work.
func TestAPIKeyDiesWithItsCreatorsAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	staff := e.signUp("staff@example.com", policy.PlatformAdmin)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	_, key := e.createKey(owner.in(acme), "nightly", "notes:read")
	e.noteTitles(key)

	e.post(staff.bare(), deactivateOp, map[string]any{"id": owner.id}).ok(t)
	r := wantCode(t, "notes after deactivation", e.post(key, notesFirstOp, nil), "UNAUTHENTICATED")
	if want := e.unknownKeyMessage(acme); r.Errors[0].Message != want {
		t.Errorf("message %q, want that of an unknown key, %q", r.Errors[0].Message, want)
	}
	e.post(staff.bare(), reactivateOp, map[string]any{"id": owner.id}).ok(t)
	e.noteTitles(key) // the key itself was never revoked
}

// unknownKeyMessage is what a well-formed key nobody issued gets.
func (e *env) unknownKeyMessage(org string) string {
	e.t.Helper()
	_, unknown := apikey.New(uuid.MustParse(org))
	return wantCode(e.t, "unknown key", e.post(caller{token: unknown}, notesFirstOp, nil), "UNAUTHENTICATED").Errors[0].Message
}

// TestAPIKeyNeedsItsModule: disabling the notes module denies a notes:read
// key, naming the module; enabling it again restores the key.
func TestAPIKeyNeedsItsModule(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	staff := e.signUp("staff@example.com", policy.PlatformAdmin)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	_, key := e.createKey(owner.in(acme), "reader", "notes:read")
	e.noteTitles(key)

	e.post(staff.bare(), setModulesOp, map[string]any{"id": acme, "m": []string{"core", "api_keys", "audit"}}).ok(t)
	wantDenied(t, "notes without the module", e.post(key, notesFirstOp, nil),
		"notes:read", "the notes module is not enabled for this organization")
	e.post(staff.bare(), setModulesOp, map[string]any{"id": acme, "m": policy.Modules()}).ok(t)
	e.noteTitles(key)
}

// TestRevokeAPIKey: revoking cuts the key on its next request; revoking
// again changes and records nothing; another organization's key and an
// unknown id are NOT_FOUND and change nothing.
func TestRevokeAPIKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	mallory := e.signUp("mallory@example.com", policy.PlatformUser)
	evil := e.createOrg(mallory, "Evil")
	k, key := e.createKey(owner.in(acme), "ci", "notes:read")

	for name, id := range map[string]string{"another org's key": k.ID, "unknown id": uuid.NewString()} {
		wantCode(t, name, e.post(mallory.in(evil), revokeKeyOp, map[string]any{"id": id}), "NOT_FOUND")
	}
	wantCode(t, "unknown id in the key's org", e.post(owner.in(acme), revokeKeyOp, map[string]any{"id": uuid.NewString()}), "NOT_FOUND")
	e.noteTitles(key)
	e.app.keys.Wait() // lastUsedAt is written after the request

	var first, again apiKeyOut
	e.post(owner.in(acme), revokeKeyOp, map[string]any{"id": k.ID}).ok(t).decode(t, "revokeApiKey", &first)
	if first.RevokedAt == nil || first.LastUsedAt == nil || first.ID != k.ID {
		t.Fatalf("revokeApiKey = %+v, want the used key with revokedAt", first)
	}
	r := wantCode(t, "notes after revocation", e.post(key, notesFirstOp, nil), "UNAUTHENTICATED")
	if want := e.unknownKeyMessage(acme); r.Errors[0].Message != want {
		t.Errorf("message %q, want that of an unknown key, %q", r.Errors[0].Message, want)
	}
	e.post(owner.in(acme), revokeKeyOp, map[string]any{"id": k.ID}).ok(t).decode(t, "revokeApiKey", &again)
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("second revokeApiKey changed the key (-first +again):\n%s", diff)
	}
	if n := e.auditCount(acme, "apikey.revoke"); n != 1 {
		t.Errorf("%d apikey.revoke events, want 1", n)
	}
	var listed []apiKeyOut
	e.post(owner.in(acme), apiKeysOp, nil).ok(t).decode(t, "apiKeys", &listed)
	if diff := cmp.Diff([]apiKeyOut{first}, listed); diff != "" {
		t.Errorf("apiKeys after revocation (-want +got):\n%s", diff)
	}
}

// TestAPIKeyExpires: a key works until its expiresAt and is refused, like
// any key that does not work, from then on. An expiry must be in the
// future and at most a year ahead.
func TestAPIKeyExpires(t *testing.T) {
	t.Parallel()
	clock := newClock()
	e := newEnvWith(t, nil, deps{Now: clock.Now})
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	at := clock.Now().Add(10 * time.Minute)
	k, key := e.createKeyWith(owner.in(acme), expiringKey(at, "temporary", "notes:read"))
	if k.ExpiresAt == nil || k.ExpiresAt.Sub(at).Abs() >= time.Microsecond { // PostgreSQL keeps microseconds
		t.Errorf("expiresAt = %v, want %v", k.ExpiresAt, at)
	}
	e.noteTitles(key)

	clock.Advance(10*time.Minute + time.Second) // the owner's access token lives 15 minutes
	r := wantCode(t, "notes after expiry", e.post(key, notesFirstOp, nil), "UNAUTHENTICATED")
	if want := e.unknownKeyMessage(acme); r.Errors[0].Message != want {
		t.Errorf("message %q, want that of an unknown key, %q", r.Errors[0].Message, want)
	}

	e.createKeyWith(owner.in(acme), expiringKey(clock.Now().AddDate(1, 0, -1), "long", "notes:read")) // under a year: fine
}

// keyRefusal is a createApiKey that must fail with code, naming permission
// (FORBIDDEN) or field (BAD_USER_INPUT), with msg in its message.
type keyRefusal struct {
	name       string
	c          caller
	in         map[string]any
	code       string
	permission string
	field      string
	msg        string
}

// expiringKey is keyInput with an expiresAt.
func expiringKey(at time.Time, name string, perms ...string) map[string]any {
	in := keyInput(name, perms...)
	in["expiresAt"] = at.Format(time.RFC3339Nano)
	return in
}

// TestCreateAPIKeyRefusals: no escalation, known permission codes only, a
// name, an expiry in the coming year; each refusal names what is wrong and
// creates nothing.
func TestCreateAPIKeyRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	root := e.signUp("root@example.com", policy.PlatformSuperadmin)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	admin, editor := e.signUp("admin@example.com", policy.PlatformUser), e.signUp("editor@example.com", policy.PlatformUser)
	e.addMember(acme, admin, "admin")
	e.addMember(acme, editor, "editor")
	now := time.Now()
	cases := []keyRefusal{
		{"escalation", admin.in(acme), keyInput("k", "notes:read", "org:delete"), "FORBIDDEN", "org:delete", "", "org:delete"},
		{"no apikeys:manage", editor.in(acme), keyInput("k", "notes:read"), "FORBIDDEN", "apikeys:manage", "", ""},
		{"platform override", root.in(acme), keyInput("k", "notes:read"), "FORBIDDEN", "", "", apikey.ReasonOverride},
		{"unknown permission", owner.in(acme), keyInput("k", "notes:read", "notes:fly"), "BAD_USER_INPUT", "", "permissions", `"notes:fly"`},
		{"no permission", owner.in(acme), keyInput("k"), "BAD_USER_INPUT", "", "permissions", "at least one"},
		{"apikeys:manage", owner.in(acme), keyInput("k", "apikeys:manage"), "BAD_USER_INPUT", "", "permissions", "apikeys:manage"},
		{"blank name", owner.in(acme), keyInput(" \t ", "notes:read"), "BAD_USER_INPUT", "", "name", "1 to 100"},
		{"long name", owner.in(acme), keyInput(strings.Repeat("é", 101), "notes:read"), "BAD_USER_INPUT", "", "name", "1 to 100"},
		{"past expiry", owner.in(acme), expiringKey(now.Add(-time.Minute), "k", "notes:read"), "BAD_USER_INPUT", "", "expiresAt", "future"},
		{"far expiry", owner.in(acme), expiringKey(now.AddDate(1, 0, 1), "k", "notes:read"), "BAD_USER_INPUT", "", "expiresAt", "a year"},
	}
	e.checkKeyRefusals(t, cases)
	if n := e.countRows("api_keys"); n != 0 {
		t.Errorf("%d keys after refusals, want none", n)
	}
	// What is allowed is cleaned up: the name trimmed, duplicates collapsed.
	k, _ := e.createKey(admin.in(acme), "  nightly export  ", "notes:read", "members:read", "notes:read")
	if k.Name != "nightly export" || !slices.Equal(k.Permissions, []string{"members:read", "notes:read"}) {
		t.Errorf("created %q with %v, want \"nightly export\" with [members:read notes:read]", k.Name, k.Permissions)
	}
}

func (e *env) checkKeyRefusals(t *testing.T, cases []keyRefusal) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := wantCode(t, tc.name, e.post(tc.c, createKeyOp, map[string]any{"in": tc.in}), tc.code)
			ext, msg := r.Errors[0].Extensions, r.Errors[0].Message
			if got, _ := ext["permission"].(string); got != tc.permission {
				t.Errorf("permission %q, want %q", got, tc.permission)
			}
			if got, _ := ext["field"].(string); got != tc.field {
				t.Errorf("field %q, want %q", got, tc.field)
			}
			if !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q does not contain %q", msg, tc.msg)
			}
		})
	}
}

// countRows counts the rows of table, past row-level security.
func (e *env) countRows(table string) int {
	e.t.Helper()
	var n int
	if err := e.db.Super(e.t).QueryRow(e.t.Context(), `SELECT count(*) FROM `+pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestAPIKeysCannotManageKeys: a key never creates or revokes keys — not
// through its scopes (apikeys:manage cannot be given to one), and not even
// when the table says it holds apikeys:manage.
func TestAPIKeysCannotManageKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	k, key := e.createKey(owner.in(acme), "auditor", "notes:read", "apikeys:read")
	var listed []apiKeyOut
	e.post(key, apiKeysOp, nil).ok(t).decode(t, "apiKeys", &listed)
	if len(listed) != 1 || listed[0].ID != k.ID {
		t.Errorf("apiKeys through an apikeys:read key = %+v, want the key itself", listed)
	}
	create := func() gqlResponse {
		return e.post(key, createKeyOp, map[string]any{"in": keyInput("successor", "notes:read")})
	}
	revoke := func() gqlResponse { return e.post(key, revokeKeyOp, map[string]any{"id": k.ID}) }
	wantDenied(t, "createApiKey", create(), "apikeys:manage", "")
	wantDenied(t, "revokeApiKey", revoke(), "apikeys:manage", "")

	// Should a key ever hold apikeys:manage, the service still refuses.
	_, err := e.db.Super(t).Exec(t.Context(),
		`UPDATE api_keys SET permissions = permissions || '{apikeys:manage}' WHERE id = $1`, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantDenied(t, "createApiKey holding apikeys:manage", create(), "", apikey.ReasonKeyCreate)
	wantDenied(t, "revokeApiKey holding apikeys:manage", revoke(), "", apikey.ReasonKeyRevoke)
	if n := e.countRows("api_keys"); n != 1 {
		t.Errorf("%d keys, want the one", n)
	}
	e.noteTitles(key) // not revoked
}

type userOperation struct {
	op   string
	vars map[string]any
}

// userOnlyOps are the operations of a signed-in user's session and of the
// platform, aimed at org, an invitation token and another user.
func userOnlyOps(org, invitation string, other uuid.UUID) map[string]userOperation {
	return map[string]userOperation{
		"signOut":                {`mutation { signOut }`, nil},
		"signOut all":            {`mutation { signOut(allSessions: true) }`, nil},
		"switchOrganization":     {switchOp, map[string]any{"id": org}},
		"createOrganization":     {`mutation { createOrganization(input: {name: "Shadow"}) { id } }`, nil},
		"myOrganizations":        {`{ myOrganizations { organization { id } } }`, nil},
		"myInvitations":          {`{ myInvitations { id } }`, nil},
		"acceptInvitation":       {acceptOp, map[string]any{"t": invitation}},
		"declineInvitation":      {declineOp, map[string]any{"t": invitation}},
		"leaveOrganization":      {leaveOrgOp, nil},
		"users":                  {usersOp, map[string]any{"first": 5}},
		"registerUser":           {registerOp, map[string]any{"e": "planted@example.com"}},
		"setPlatformRole":        {setRoleOp, map[string]any{"id": other, "r": "SUPERADMIN"}},
		"deactivateUser":         {deactivateOp, map[string]any{"id": other}},
		"setOrganizationModules": {setModulesOp, map[string]any{"id": org, "m": []string{"core"}}},
	}
}

// TestAPIKeyRefusesUserSessionOperations: a key acts in its organization
// only; whatever belongs to a signed-in user's session or to the platform
// is FORBIDDEN to it, even when its creator is a SUPERADMIN. me and the
// permission catalog are fine.
func TestAPIKeyRefusesUserSessionOperations(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	root := e.signUp("root@example.com", policy.PlatformSuperadmin)
	acme := e.createOrg(root, "Acme")
	other := e.signUp("other@example.com", policy.PlatformUser)
	inv := e.invite(root.in(acme), "newcomer@example.com", viewerRole)
	token := e.invitationToken("newcomer@example.com")
	_, key := e.createKey(root.in(acme), "broad", "notes:read", "members:read", "members:invite", "org:update")

	for name, o := range userOnlyOps(acme, token, other.id) {
		t.Run(name, func(t *testing.T) {
			wantCode(t, name, e.post(key, o.op, o.vars), "FORBIDDEN")
		})
	}
	var me struct{ ID string }
	e.post(key, meOp, nil).ok(t).decode(t, "me", &me)
	e.post(key, `{ permissionCatalog { code } }`, nil).ok(t)
	if me.ID != root.id.String() || e.countRows("organizations") != 1 || e.invitationStatus(inv.ID) != "PENDING" {
		t.Errorf("me = %s (want %s), or a refused operation changed something", me.ID, root.id)
	}
	e.post(root.bare(), meOp, nil).ok(t) // the creator's session is untouched
}

// keyAuditEvent is an audit event as this file's checks read it.
type keyAuditEvent struct {
	Action     string
	Actor      *struct{ ID string }
	APIKeyID   *string `json:"apiKeyId"`
	TargetType *string
	TargetID   *string
}

// keyAuditEvents reads c's organization's events with action, newest first.
func (e *env) keyAuditEvents(c caller, action string) []keyAuditEvent {
	e.t.Helper()
	var conn struct {
		Edges []struct{ Node keyAuditEvent }
	}
	e.post(c, `query($f: AuditFilter) { auditEvents(first: 50, filter: $f) {
		edges { node { action actor { id } apiKeyId targetType targetId } } } }`,
		map[string]any{"f": map[string]any{"action": action}}).ok(e.t).decode(e.t, "auditEvents", &conn)
	out := []keyAuditEvent{}
	for _, edge := range conn.Edges {
		out = append(out, edge.Node)
	}
	return out
}

func auditEvent(action, actor string, key *string, targetType, target string) keyAuditEvent {
	return keyAuditEvent{Action: action, Actor: &struct{ ID string }{actor}, APIKeyID: key, TargetType: &targetType, TargetID: &target}
}

// TestAPIKeyActsAreAudited: what a key does is recorded with the key's id
// and its creator as the actor; creating and revoking keys are recorded
// too, as the user's acts.
func TestAPIKeyActsAreAudited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	k, key := e.createKey(owner.in(acme), "writer", "notes:read", "notes:create")
	var n struct{ ID string }
	e.post(key, scriptNoteOp, map[string]any{"t": "scripted"}).ok(t).decode(t, "createNote", &n)
	e.post(owner.in(acme), revokeKeyOp, map[string]any{"id": k.ID}).ok(t)

	me := owner.in(acme)
	want := map[string][]keyAuditEvent{
		"note.create":   {auditEvent("note.create", owner.id.String(), &k.ID, "note", n.ID)},
		"apikey.create": {auditEvent("apikey.create", owner.id.String(), nil, "api_key", k.ID)},
		"apikey.revoke": {auditEvent("apikey.revoke", owner.id.String(), nil, "api_key", k.ID)},
	}
	for action, w := range want {
		if diff := cmp.Diff(w, e.keyAuditEvents(me, action)); diff != "" {
			t.Errorf("%s events (-want +got):\n%s", action, diff)
		}
	}
}

// TestBadAPIKeysLookAlike: a malformed key, one with a bad checksum, an
// unknown one (in a real or a made-up organization) and a revoked one all
// get the same UNAUTHENTICATED, so none can be told from another.
func TestBadAPIKeysLookAlike(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	k, key := e.createKey(owner.in(acme), "soon revoked", "notes:read")
	_, live := e.createKey(owner.in(acme), "live", "notes:read")
	e.post(owner.in(acme), revokeKeyOp, map[string]any{"id": k.ID}).ok(t)
	_, unknown := apikey.New(uuid.MustParse(acme))
	_, nowhere := apikey.New(uuid.New())

	keys := map[string]string{
		"malformed":           "qk_not-a-key",
		"truncated":           live.token[:len(live.token)-1],
		"bad checksum":        corruptKey(live.token),
		"unknown, in its org": unknown,
		"unknown, in no org":  nowhere,
		"revoked":             key.token,
	}
	want := ""
	for name, token := range keys {
		r := wantCode(t, name, e.post(caller{token: token}, notesFirstOp, nil), "UNAUTHENTICATED")
		if msg := r.Errors[0].Message; want == "" {
			want = msg
		} else if msg != want {
			t.Errorf("%s: message %q, want the same as every other bad key, %q", name, msg, want)
		}
	}
	e.noteTitles(live)
}

// TestListAPIKeys: apiKeys shows every key of the organization, newest
// first, revoked ones included, to whoever holds apikeys:read there, and
// nothing of another organization's.
func TestListAPIKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	admin, viewer := e.signUp("admin@example.com", policy.PlatformUser), e.signUp("viewer@example.com", policy.PlatformUser)
	e.addMember(acme, admin, "admin")
	e.addMember(acme, viewer, "viewer")
	stranger := e.signUp("stranger@example.com", policy.PlatformUser)
	foreign := e.createOrg(stranger, "Foreign")
	e.createKey(stranger.in(foreign), "theirs", "notes:read")

	first, _ := e.createKey(owner.in(acme), "first", "notes:read")
	at := time.Now().Add(time.Hour)
	second, _ := e.createKeyWith(admin.in(acme), expiringKey(at, "second", "notes:read", "notes:create"))
	var revoked apiKeyOut
	e.post(owner.in(acme), revokeKeyOp, map[string]any{"id": first.ID}).ok(t).decode(t, "revokeApiKey", &revoked)

	var listed []apiKeyOut
	e.post(admin.in(acme), apiKeysOp, nil).ok(t).decode(t, "apiKeys", &listed)
	if diff := cmp.Diff([]apiKeyOut{second, revoked}, listed); diff != "" {
		t.Errorf("apiKeys (-want +got):\n%s", diff)
	}
	if listed[0].CreatedBy.Email != "admin@example.com" || listed[1].CreatedBy.Email != "owner@example.com" {
		t.Errorf("creators %q, %q", listed[0].CreatedBy.Email, listed[1].CreatedBy.Email)
	}
	var theirs []apiKeyOut
	e.post(stranger.in(foreign), apiKeysOp, nil).ok(t).decode(t, "apiKeys", &theirs)
	if len(theirs) != 1 || theirs[0].Name != "theirs" {
		t.Errorf("another organization's apiKeys = %+v, want only its own key", theirs)
	}
	wantDenied(t, "apiKeys as a viewer", e.post(viewer.in(acme), apiKeysOp, nil), "apikeys:read", "")
}
