// Command quire is the Quire server and its administration tool:
//
//	quire serve                      migrate (unless --no-migrate) and serve the API
//	quire migrate [up|down|status]   apply or inspect the database migrations
//	quire admin create-user --email E [--name N] [--platform-role ROLE]
//	quire admin seed [--orgs N] [--notes-per-org M] …   development data
//	quire version
//
// With DATABASE_URL unset every subcommand uses the embedded development
// database under $QUIRE_DATA_DIR. main only wires; the packages under
// internal/ hold the rules.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise
// the module version or VCS revision from the build info is used.
var version = ""

const usage = `usage: quire <command> [flags]

commands:
  serve                  migrate (unless --no-migrate) and serve the API and playground
  migrate [up|down|status]
                         apply, roll back one, or list the database migrations
  admin create-user      create a user (or set their platform role) and print a sign-in link
  admin seed             fill the database with throwaway orgs, users and notes (not in production)
  version                print the version

Run "quire <command> --help" for a command's flags. Configuration comes from the
environment (QUIRE_ADDR, DATABASE_URL, …); see README.md.
`

// exitError carries a process exit code: 2 for usage errors, 1 otherwise.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		if ee.err != nil && !errors.Is(ee.err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "quire:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "quire:", err)
	return 1
}

// run dispatches a command line; it is main without the process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError{code: 2, err: errors.New("no command given")}
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args[1:], getenv, stdout, stderr)
	case "admin":
		return runAdmin(ctx, args[1:], getenv, stdout, stderr)
	case "version":
		if err := parseFlags(flag.NewFlagSet("version", flag.ContinueOnError), args[1:], stderr, "quire version"); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "quire", buildVersion())
		return nil
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return exitError{code: 2, err: fmt.Errorf("unknown command %q", args[0])}
}

// parseFlags parses args; a bad flag is a usage error (exit 2) after the
// usage line, --help prints the flags and exits 0.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer, synopsis string) error {
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s\n", synopsis)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitError{code: 0, err: err}
		}
		return exitError{code: 2, err: err}
	}
	return nil
}

func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			return "dev-" + s.Value
		}
	}
	return "dev"
}
