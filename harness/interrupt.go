package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Interrupt is the cause of a context cancelled by SIGINT or SIGTERM
// (context.Cause), so that whoever stops on it can say by what.
type Interrupt struct {
	Signal syscall.Signal
}

func (i *Interrupt) Error() string { return "interrupted by " + SignalName(i.Signal) }

// ExitCode is 128 + the signal number (130 for SIGINT, 143 for SIGTERM):
// the shell's convention for "ended by that signal", kept although the
// process catches it, so that a CI runner or a script can tell a cancelled
// run from a harness error (2) and never mistake it for pass or fail.
func (i *Interrupt) ExitCode() int { return 128 + int(i.Signal) }

// SignalName is e.g. "SIGTERM" (syscall's String says "terminated").
func SignalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGKILL:
		return "SIGKILL"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return fmt.Sprintf("signal %d", int(s))
}

// InterruptOf is the Interrupt that cancelled ctx, or nil.
func InterruptOf(ctx context.Context) *Interrupt {
	var in *Interrupt
	if errors.As(context.Cause(ctx), &in) {
		return in
	}
	return nil
}

// NotifyInterrupt returns a context cancelled, with an *Interrupt cause,
// by the first SIGINT or SIGTERM. Later ones do not stop the process: it
// is removing its containers (each removal bounded by cleanupTimeout), and
// dying now would leave them to `spockchaos clean`; each is acknowledged
// on w. stop releases the signals.
func NotifyInterrupt(parent context.Context, w io.Writer) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		first := true
		for {
			select {
			case <-done:
				return
			case s := <-sigs:
				sig, _ := s.(syscall.Signal)
				if first {
					first = false
					cancel(&Interrupt{Signal: sig})
					continue
				}
				fmt.Fprintf(w, "spockchaos: %s again: still stopping and removing containers (at most %s per removal; SIGKILL leaves them to spockchaos clean)\n",
					SignalName(sig), cleanupTimeout)
			}
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}
