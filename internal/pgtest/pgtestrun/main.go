// Command pgtestrun runs a command against one throwaway PostgreSQL cluster:
//
//	go run ./internal/pgtest/pgtestrun -- go test -race ./...
//
// It starts the cluster, passes its superuser URL to the command as
// QUIRE_TEST_DATABASE_URL, so that every test binary uses it instead of
// starting its own, forwards SIGINT and SIGTERM, always stops and removes the
// cluster, and exits with the command's status.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/quirehq/quire/internal/pgtest"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: pgtestrun -- command [arg ...]")
		return 2
	}
	// Subscribe before anything starts, so no signal is lost in between.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(signals)

	c, err := pgtest.StartCluster(context.Background())
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtestrun: %v\n", err)
		return 1
	}
	defer func() {
		if err := c.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtestrun: %v\n", err)
		}
	}()
	return runChild(args, c.SuperuserURL(), signals)
}

// runChild runs the command with the URL in its environment and returns its
// exit code, passing it the signals we get.
func runChild(args []string, superURL string, signals <-chan os.Signal) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), pgtest.EnvURL+"="+superURL)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtestrun: %v\n", err)
		return 1
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case sig := <-signals:
				cmd.Process.Signal(sig)
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return exit.ExitCode()
	case errors.As(err, &exit):
		// Killed by a signal: report it the way a shell would.
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return 1
	default:
		fmt.Fprintf(os.Stderr, "pgtestrun: %v\n", err)
		return 1
	}
}
