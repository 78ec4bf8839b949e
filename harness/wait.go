package harness

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrTimedOut is wrapped by a wait's error when its timeout passed (not
// when its context ended first).
var ErrTimedOut = errors.New("timed out")

// WaitFor calls check every interval until it reports done, returns an
// error, or timeout passes. On timeout the error names what was awaited and
// the last state check described, e.g. "n3: sub_n3_n1 down".
func WaitFor(ctx context.Context, what string, timeout, interval time.Duration, check func(context.Context) (done bool, state string, err error)) error {
	return waitFor(ctx, what, timeout, interval, interval, check)
}

// WaitForBackoff is WaitFor with an interval that starts at first and
// doubles up to most: for a state that usually passes within milliseconds
// (on a critical path, every round of waiting counts) but may last long.
func WaitForBackoff(ctx context.Context, what string, timeout, first, most time.Duration, check func(context.Context) (done bool, state string, err error)) error {
	return waitFor(ctx, what, timeout, first, most, check)
}

func waitFor(ctx context.Context, what string, timeout, interval, most time.Duration, check func(context.Context) (done bool, state string, err error)) error {
	deadline := time.Now().Add(timeout)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	state := "not checked yet"
	for {
		done, s, err := check(ctx)
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("wait for %s: %w", what, err)
		}
		if err == nil {
			if done {
				return nil
			}
			state = s
		}
		select {
		case <-ctx.Done():
			if time.Now().Before(deadline) {
				return fmt.Errorf("wait for %s: %w (last state: %s)", what, ctx.Err(), state)
			}
			return fmt.Errorf("wait for %s: %w after %s (last state: %s)", what, ErrTimedOut, timeout, state)
		case <-time.After(interval):
		}
		interval = min(2*interval, most)
	}
}
