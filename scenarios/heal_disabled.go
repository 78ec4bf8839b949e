package scenarios

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/harness/fault"
	"github.com/spockchaos/spockchaos/verify"
)

// Heals the server answered by disabling a subscription (heal_disabled.go):
// a held fault whose heal confirmation times out (fault.ErrNotHealed)
// while the server itself disabled a subscription the fault touches (one
// between two of its Targets: disabled now on its subscriber, and a
// server-log line of replication-health's detector saying the server
// disabled it, since the fault started) is the system under test's
// failure, not the harness's: the step ends with a note (printed, and
// appended to the fault's detail in run.json) instead of an error, and
// the run goes on to quiesce and the checkers, where replication-health
// names the subscription with the server's reason (the stalled quiesce
// hands over to it, afterStalledQuiesce).
// Later held steps that touch a
// subscription so disabled are skipped, with a note on the disabling
// fault: their effect could not be seen. The subscription stays disabled
// until the load is over; the quiesce then enables it again, as an
// operator would (resumeDisabled), and the checkers judge what the
// disable held back and lost. Otherwise the heal error stands (the run
// ends unknown).
//
// The same holds for a fault step that injects and heals at once
// (sub-restart-cycle, sub-option-cycle: injectIsFaultStep) whose inject
// timed out waiting for the worker the server never started because it
// disabled the subscription: the step ends with the note and is not
// healed (its heal would enable the subscription again); a later such
// step that needs a subscription the server disabled is skipped, as held
// steps are.

// healSlack widens the fault's start when a disable line's time is read:
// the server's clock and the harness's record differ by a moment.
const healSlack = 2 * time.Second

// touchedSub is a subscription (on its subscriber, from its provider) a
// fault touches.
type touchedSub struct{ node, sub, prov string }

// subsAmong are the subscriptions between every ordered pair of targets,
// named by name(subscriber, provider).
func subsAmong(targets []string, name func(sub, prov string) string) []touchedSub {
	var out []touchedSub
	for _, s := range targets {
		for _, p := range targets {
			t := touchedSub{s, name(s, p), p}
			if s != p && !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out
}

// serverDisabled decides whether the server itself disabled one of subs
// since the fault started: the subscription is disabled now (statuses:
// subscriber -> subscription -> status) and its subscriber's log holds a
// self-disable line about it, timed no earlier than since less healSlack
// (a line with no time cannot be tied to the fault). It returns that
// subscription and the latest such line.
func serverDisabled(subs []touchedSub, statuses map[string]map[string]string, lines []verify.SubLogLine, since time.Time) (touchedSub, verify.SubLogLine, bool) {
	for _, t := range subs {
		if statuses[t.node][t.sub] != "disabled" {
			continue
		}
		var found verify.SubLogLine
		for _, l := range lines {
			if l.Node == t.node && l.Subscription == t.sub && l.SelfDisable && !l.At.IsZero() && !l.At.Before(since.Add(-healSlack)) {
				found = l
			}
		}
		if found.Line != "" {
			return t, found, true
		}
	}
	return touchedSub{}, verify.SubLogLine{}, false
}

// serverMayHaveAnswered reports whether a fault's failed wait, err, may
// be the server's doing: its heal confirmation failed, or a wait of its
// inject timed out, and the run itself is not stopping.
func serverMayHaveAnswered(ctx context.Context, err error) bool {
	return ctx.Err() == nil && (errors.Is(err, fault.ErrNotHealed) || errors.Is(err, harness.ErrTimedOut))
}

// healDisabled reads whether the server disabled a subscription in.f
// touches, after its heal confirmation failed with herr; if so it
// records the note and the subscription, and the heal error is dropped.
func (r *run) healDisabled(ctx context.Context, in *injected, herr error) bool {
	return r.faultDisabled(ctx, in.f.Mode(), in.step, in.record, "healing not observed", herr)
}

// faultDisabled: whether the server disabled a subscription mode touches
// since the start of run-record fault rec, after err (a wait of the fault
// that failed); if so it records the note (what, the server's line, err)
// and the subscription, and err is to be dropped.
func (r *run) faultDisabled(ctx context.Context, mode fault.Mode, step Step, rec int, what string, err error) bool {
	if !serverMayHaveAnswered(ctx, err) || rec < 0 {
		return false
	}
	subs := subsAmong(mode.Targets(), r.cluster.Flavor.SubscriptionName)
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	statuses := map[string]map[string]string{}
	var lines []verify.SubLogLine
	for _, t := range subs {
		if _, read := statuses[t.node]; read {
			continue
		}
		st, log := r.subscriptionState(ctx, t.node)
		statuses[t.node] = st
		var names []string
		for _, o := range subs {
			if o.node == t.node {
				names = append(names, o.sub)
			}
		}
		lines = append(lines, verify.ParseSubscriptionLog(t.node, log, names)...)
	}
	t, l, ok := serverDisabled(subs, statuses, lines, r.report.Faults[rec].Start)
	if !ok {
		return false
	}
	note := fmt.Sprintf("%s: the server disabled %s on %s at %s: %s (%v)",
		what, l.Subscription, l.Node, l.At.UTC().Format("15:04:05.000"), l.Line, err)
	r.out.linef("step %q: %s\n", step, note)
	r.report.Faults[rec].Detail += "; " + note
	if r.disabledSubs == nil {
		r.disabledSubs = map[touchedSub]int{}
	}
	r.disabledSubs[t] = rec
	return true
}

// subscriptionState is node's subscription statuses and server log;
// either is empty when it cannot be read (the decision then says no).
func (r *run) subscriptionState(ctx context.Context, node string) (map[string]string, []byte) {
	n := r.cluster.Node(node)
	if n == nil || n.Container == nil {
		return nil, nil
	}
	var st map[string]string
	if conn, err := n.Connect(ctx); err == nil {
		st, _ = r.cluster.SubscriptionStatuses(ctx, conn)
		_ = conn.Close(context.WithoutCancel(ctx))
	}
	log, _ := r.cluster.ServerLog(ctx, n)
	return st, log
}

// skipDisabled reports whether held step s touches a subscription the
// server disabled earlier in the run; if so it notes the skip.
func (r *run) skipDisabled(s Step, parts []heldPart) bool {
	if len(r.disabledSubs) == 0 {
		return false
	}
	for _, p := range parts {
		for _, t := range subsAmong(p.mode.Targets(), r.cluster.Flavor.SubscriptionName) {
			i, ok := r.disabledSubs[t]
			if !ok {
				continue
			}
			note := fmt.Sprintf("step %q skipped: it needs %s on %s, which the server disabled", s, t.sub, t.node)
			r.out.linef("%s\n", note)
			r.report.Faults[i].Detail += "; " + note
			return true
		}
	}
	return false
}
