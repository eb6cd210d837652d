package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/quirehq/quire/internal/account"
	"github.com/quirehq/quire/internal/migrate"
	"github.com/quirehq/quire/internal/policy"
	"github.com/quirehq/quire/internal/store"
)

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	if err := parseFlags(fs, args, stderr, "quire migrate [up|down|status]"); err != nil {
		return err
	}
	action := "up"
	if fs.NArg() > 0 {
		action = fs.Arg(0)
	}
	if fs.NArg() > 1 || (action != "up" && action != "down" && action != "status") {
		fs.Usage()
		return exitError{code: 2, err: fmt.Errorf("want one of up, down, status")}
	}
	_, logger, db, err := setup(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close(logger)
	switch action {
	case "down":
		return migrate.Down(ctx, db.MigrateURL)
	case "status":
		return migrate.Status(ctx, db.MigrateURL, stdout)
	}
	return db.migrateUp(ctx, logger)
}

func runAdmin(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const createUser = "quire admin create-user --email E [--name N] [--platform-role USER|ADMIN|SUPERADMIN]"
	const synopsis = createUser + "\n       " + seedSynopsis
	if len(args) > 0 && args[0] == "seed" {
		return runSeed(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) == 0 || args[0] != "create-user" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(stdout, "usage:", synopsis)
			return nil
		}
		fmt.Fprintln(stderr, "usage:", synopsis)
		return exitError{code: 2, err: fmt.Errorf("unknown admin command")}
	}
	fs := flag.NewFlagSet("admin create-user", flag.ContinueOnError)
	email := fs.String("email", "", "the user's email address (required)")
	name := fs.String("name", "", "the user's display name")
	roleName := fs.String("platform-role", "USER", "USER, ADMIN or SUPERADMIN")
	if err := parseFlags(fs, args[1:], stderr, createUser); err != nil {
		return err
	}
	role, ok := policy.ParsePlatformRole(*roleName)
	if *email == "" || !ok || fs.NArg() > 0 {
		fs.Usage()
		return exitError{code: 2, err: fmt.Errorf("--email is required and --platform-role must be USER, ADMIN or SUPERADMIN")}
	}
	cfg, logger, db, err := setup(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close(logger)
	// The schema may not exist yet if the server never ran: migrating is
	// idempotent, so do it rather than fail.
	if err := db.migrateUp(ctx, logger); err != nil {
		return err
	}
	st, err := store.Open(ctx, db.AppURL, 2)
	if err != nil {
		return err
	}
	defer st.Close()
	accounts := &account.Service{Store: st, PublicURL: cfg.PublicURL, Now: time.Now, Logger: logger}
	var display *string
	if *name != "" {
		display = name
	}
	u, link, err := accounts.CreateWithLink(ctx, *email, display, role)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "User %s (%s, %s). Sign-in link, single use, valid for 15 minutes:\n", u.Email, u.ID, u.PlatformRole)
	fmt.Fprintln(stdout, link)
	return nil
}
