// Command spockchaos is the CLI of the spockchaos harness: it brings up
// replicated PostgreSQL clusters in containers, breaks them on purpose and
// checks what survives. Run `spockchaos --help` for the commands.
//
// Exit codes: 0 success (or a passing verdict), 1 a failing verdict, 2 a
// harness error or bad input. Errors are one line on stderr.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes shared by every command.
const (
	exitOK      = 0
	exitFail    = 1
	exitHarness = 2
)

// exitError carries an exit code other than exitHarness out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	limitProcs()
	os.Exit(run())
}

func run() int {
	// Ctrl-C and SIGTERM cancel ctx; every command cleans up on cancellation.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A closed stdout/stderr (a pipe whose reader went away) must not kill
	// the process before it has removed its containers.
	signal.Ignore(syscall.SIGPIPE)
	root := newRootCmd()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "spockchaos:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "spockchaos:", err)
	return exitHarness
}
