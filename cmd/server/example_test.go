package main

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/quirehq/quire/internal/policy"
)

// exampleScript is the README's API key example; the README shows it
// between these markers, in a sh block.
const (
	exampleScript = "../../examples/list-notes.sh"
	exampleBegin  = "<!-- begin examples/list-notes.sh: a test keeps this block identical to the file -->\n```sh\n"
	exampleEnd    = "```\n<!-- end examples/list-notes.sh -->"
)

// TestREADMEShowsTheExampleScript: the README's block is the script, byte
// for byte, so the one that TestExampleScriptListsNotes runs is the one
// people copy.
func TestREADMEShowsTheExampleScript(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile(exampleScript)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), exampleBegin)
	block, _, ok2 := strings.Cut(rest, exampleEnd)
	if !ok || !ok2 {
		t.Fatalf("README.md has no block between %q and %q", exampleBegin, exampleEnd)
	}
	if block != string(script) {
		t.Errorf("README.md's example differs from %s: copy the file into the block.\nREADME:\n%s\nfile:\n%s", exampleScript, block, script)
	}
}

// TestExampleScriptListsNotes runs the README's example script with sh and
// curl against a real listener, with a read-only key, as a reader would.
func TestExampleScriptListsNotes(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("the example script needs curl, which is not installed: ", err)
	}
	e := newEnv(t, nil)
	owner := e.signUp("owner@example.com", policy.PlatformUser)
	acme := e.createOrg(owner, "Acme")
	e.createNote(owner.in(acme), "Quarterly plan", nil)
	_, key := e.createKey(owner.in(acme), "list-notes.sh", "notes:read")
	srv := httptest.NewServer(e.handler)
	t.Cleanup(srv.Close)

	cmd := exec.CommandContext(t.Context(), "sh", exampleScript)
	// A proxy configured for the machine must not stand between curl and
	// the test's listener.
	cmd.Env = append(os.Environ(), "QUIRE_URL="+srv.URL, "QUIRE_API_KEY="+key.token, "NO_PROXY=*", "no_proxy=*")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sh %s: %v\nstdout: %s\nstderr: %s", exampleScript, err, out, stderr.String())
	}
	var r gqlResponse
	if err := json.Unmarshal(out, &r); err != nil || len(r.Errors) > 0 || !strings.Contains(string(out), `"title":"Quarterly plan"`) {
		t.Errorf("the script printed %s (%v), want the note's title and no error", out, err)
	}
}
