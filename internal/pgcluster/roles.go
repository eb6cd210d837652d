package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The roles and database Quire uses; production creates the same roles.
const (
	// OwnerRole owns the database and its tables and runs migrations.
	OwnerRole = "quire_owner"
	// AppRole is what the server connects as: no superuser, no BYPASSRLS,
	// owns nothing, so row-level security applies to it.
	AppRole = "quire_app"
	// DevDatabase is the database EnsureDev creates.
	DevDatabase = "quire"
)

// Attributes are reset on every call, so a role someone altered by hand comes
// back to what the design relies on.
const (
	ownerAttrs = "LOGIN NOSUPERUSER NOCREATEROLE NOBYPASSRLS"
	appAttrs   = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOBYPASSRLS"
)

// rolesLock is the advisory lock key that serializes EnsureRolesOn callers.
const rolesLock int64 = 0x717569726501 // "quire" 01

// DevURLs are the URLs of the development database.
type DevURLs struct {
	App   string // as AppRole: the server's DATABASE_URL
	Owner string // as OwnerRole: DATABASE_MIGRATE_URL
}

// EnsureDev creates, if missing, the owner and app roles and the database
// quire owned by the owner role, and returns URLs for both roles over TCP with
// password authentication. The passwords are generated on first use and kept
// in credentials.json in the data directory.
func (c *Cluster) EnsureDev(ctx context.Context) (DevURLs, error) {
	cred, err := loadCredentials(c.dir)
	if err != nil {
		return DevURLs{}, err
	}
	if err := c.EnsureRoles(ctx, cred.OwnerPassword, cred.AppPassword); err != nil {
		return DevURLs{}, err
	}
	if err := c.ensureDatabase(ctx, DevDatabase, OwnerRole); err != nil {
		return DevURLs{}, err
	}
	return DevURLs{
		App:   c.tcpURL(AppRole, cred.AppPassword, DevDatabase),
		Owner: c.tcpURL(OwnerRole, cred.OwnerPassword, DevDatabase),
	}, nil
}

// EnsureRoles creates OwnerRole and AppRole with the given passwords, or
// resets the passwords and attributes of the existing roles.
func (c *Cluster) EnsureRoles(ctx context.Context, ownerPassword, appPassword string) error {
	conn, err := pgx.Connect(ctx, c.SuperuserURL("postgres"))
	if err != nil {
		return fmt.Errorf("ensure roles: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return EnsureRolesOn(ctx, conn, ownerPassword, appPassword)
}

// EnsureRolesOn is EnsureRoles over conn, a superuser connection to any
// server (the test harness only has a URL). Concurrent callers connected to
// the same database are serialized, so CREATE ROLE does not race.
func EnsureRolesOn(ctx context.Context, conn *pgx.Conn, ownerPassword, appPassword string) error {
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", rolesLock); err != nil {
			return err
		}
		if err := ensureRole(ctx, tx, OwnerRole, ownerAttrs, ownerPassword); err != nil {
			return err
		}
		return ensureRole(ctx, tx, AppRole, appAttrs, appPassword)
	})
	if err != nil {
		return fmt.Errorf("ensure roles: %w", err)
	}
	return nil
}

func ensureRole(ctx context.Context, tx pgx.Tx, name, attrs, password string) error {
	var exists bool
	err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1)", name).Scan(&exists)
	if err != nil {
		return fmt.Errorf("look up role %s: %w", name, err)
	}
	verb := "CREATE"
	if exists {
		verb = "ALTER"
	}
	// CREATE/ALTER ROLE take no bind parameters: let the server quote.
	var stmt string
	err = tx.QueryRow(ctx, "SELECT format('%s ROLE %I WITH %s PASSWORD %L', $1::text, $2::text, $3::text, $4::text)",
		verb, name, attrs, password).Scan(&stmt)
	if err != nil {
		return fmt.Errorf("quote role %s: %w", name, err)
	}
	if _, err := tx.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("%s role %s: %w", verb, name, err)
	}
	return nil
}

// ensureDatabase creates database name owned by owner unless it exists.
func (c *Cluster) ensureDatabase(ctx context.Context, name, owner string) error {
	conn, err := pgx.Connect(ctx, c.SuperuserURL("postgres"))
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" OWNER "+pgx.Identifier{owner}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: another process won
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// tcpURL is a password-authenticated URL over 127.0.0.1.
func (c *Cluster) tcpURL(user, password, dbname string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(user, password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + dbname,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}
