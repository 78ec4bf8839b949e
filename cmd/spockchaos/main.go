// Command spockchaos is the CLI of the spockchaos harness: it brings up
// replicated PostgreSQL clusters in containers, breaks them on purpose and
// checks what survives. Run `spockchaos --help` for the commands.
//
// Exit codes: 0 success (or a passing verdict), 1 a failing verdict, 2 a
// harness error, an unknown verdict or bad input (any command, flag or
// argument that cannot work, and any unreadable stored artifact), 130 / 143
// stopped by SIGINT / SIGTERM (128 + the signal: the shell's convention,
// so CI can tell a cancelled job from a harness error; the verdict of an
// interrupted run is unknown, its run.json says in which phase and by
// what). Errors are one line on stderr, never a stack trace: a panic is
// caught, reported in one line and exits 2.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spockchaos/spockchaos/harness"
)

// Exit codes shared by every command.
const (
	exitOK      = 0
	exitFail    = 1
	exitHarness = 2
)

// stopGrace bounds how long the process may take to stop after SIGINT or
// SIGTERM: the report phase (node artifacts, at most a minute), writing
// the run directory and removing the cluster (at most a minute per
// removal) fit in it. A CI runner whose grace period is shorter sends
// SIGKILL first; what that leaves is for spockchaos clean.
const stopGrace = 3 * time.Minute

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

func run() (code int) {
	// Ctrl-C and SIGTERM cancel ctx with a harness.Interrupt cause; every
	// command cleans up on cancellation.
	ctx, stop := harness.NotifyInterrupt(context.Background(), os.Stderr)
	defer stop()
	// The last line of defence against a hang: once signalled, the process
	// ends within stopGrace even if some wait ignored the cancellation.
	context.AfterFunc(ctx, func() {
		if in := harness.InterruptOf(ctx); in != nil {
			time.AfterFunc(stopGrace, func() {
				fmt.Fprintf(os.Stderr, "spockchaos: did not stop within %s of %s: exiting now; spockchaos clean removes what is left\n", stopGrace, harness.SignalName(in.Signal))
				os.Exit(in.ExitCode())
			})
		}
	})
	defer func() {
		// A bug must still give one line and exit 2; the stack goes to the
		// debug log only, and the deferred cleanups of the command have run.
		if p := recover(); p != nil {
			fmt.Fprintf(os.Stderr, "spockchaos: internal error: %v\n", oneLine(fmt.Sprint(p)))
			if os.Getenv("SPOCKCHAOS_TRACEBACK") != "" {
				os.Stderr.Write(debug.Stack())
			}
			code = exitHarness
		}
	}()
	// A closed stdout/stderr (a pipe whose reader went away) must not kill
	// the process before it has removed its containers.
	signal.Ignore(syscall.SIGPIPE)
	root := newRootCmd()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	code = exitHarness
	var ee *exitError
	if errors.As(err, &ee) {
		code, err = ee.code, ee.err
	}
	// A command that ended on a signal (and did not treat it as its normal
	// end, as held `up` does) exits 128 + the signal, whatever else it
	// said, and its line says which signal.
	in := harness.InterruptOf(ctx)
	if err != nil {
		msg := oneLine(err.Error())
		if in != nil && !strings.Contains(msg, "interrupted by") {
			msg = in.Error() + ": " + msg
		}
		fmt.Fprintln(os.Stderr, "spockchaos:", msg)
	}
	if in != nil {
		return in.ExitCode()
	}
	return code
}

// oneLine keeps an error message on one line of stderr (a wrapped error
// from a server or a joined error can hold newlines).
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}
