package fault

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/harness"
)

// Process faults inside a node: one replication process, not the server.
// A backend is ended with SIGTERM (pg_terminate_backend): a SIGKILL of any
// backend makes the postmaster restart every process of the server, which
// is the node crash that Kill already is.

// workerRole says which process of a link a worker fault acts on.
type workerRole int

const (
	walsender   workerRole = iota // on the provider, streaming to the subscriber
	applyWorker                   // on the subscriber, applying the provider's changes
)

// action is what a worker fault does to its process.
type action int

const (
	terminateBackend action = iota // pg_terminate_backend (SIGTERM)
	cancelBackend                  // pg_cancel_backend (SIGINT)
	freezeProcess                  // SIGSTOP; Heal sends SIGCONT
)

// workerFault ends, cancels or freezes one replication process of the
// link provider -> subscriber, at a moment of the stream (Moment).
type workerFault struct {
	base       // node and peer unused: Node and Targets follow the role
	role       workerRole
	subscriber string
	provider   string
	act        action
	when       Moment
	window     time.Duration

	pid      int    // the process acted on, sampled by StartDetail or Inject
	slot     string // walsender: the provider's slot for the subscription
	marker   string // stop: written by the effect check, awaited by heal
	writeTxn TxnWriter
	bigTxn   string      // in-txn: the token of the barrier transaction written, "" if none
	moment   *linkSample // the sample that chose the moment of the signal
	hold     *heldRow    // cancel in-txn: the local lock that keeps the apply inside
	heldTxn  *HeldTxn    // cancel in-txn: the caller's transaction and lock (WithHeldTxn)
	logFrom  int         // cancel: the host's server log before the fault
	// in-txn: the subscriber's server log before the fault
	subLogFrom int
}

// KillWalsender terminates the walsender on provider that streams to
// subscriber's subscription, and only it. Effect: that pid leaves
// pg_stat_replication on provider (the subscriber reconnects with a new
// one). Heal has nothing to undo; healed when the link replicates with a
// new walsender and a marker crosses it.
func KillWalsender(c *harness.Cluster, provider, subscriber string) Mode {
	return &workerFault{base: base{c: c, kind: "kill-walsender"}, role: walsender, subscriber: subscriber, provider: provider}
}

// KillApply terminates the apply worker of subscriber's subscription to
// provider, and only it. Effect: that pid leaves pg_stat_activity on
// subscriber. Heal has nothing to undo (the flavor's manager starts a new
// worker); healed when the link replicates and a marker crosses it.
func KillApply(c *harness.Cluster, subscriber, provider string) Mode {
	return &workerFault{base: base{c: c, kind: "kill-apply"}, role: applyWorker, subscriber: subscriber, provider: provider}
}

// StopApply freezes (SIGSTOP) the apply worker of subscriber's
// subscription to provider. Effect: the process is stopped (state T in
// /proc), a marker written on provider reaches every other node but not
// subscriber for DefaultLagWindow, and the subscription still reports
// replicating. Heal sends SIGCONT; healed when the marker arrived. Keep
// the hold under wal_sender_timeout (60 s), or the provider drops the link.
func StopApply(c *harness.Cluster, subscriber, provider string) Mode {
	return &workerFault{base: base{c: c, kind: "stop-apply"}, role: applyWorker, subscriber: subscriber, provider: provider, act: freezeProcess, window: DefaultLagWindow}
}

// StallProvider freezes (SIGSTOP) the walsender on provider that streams
// to subscriber: the provider stops sending, mid-transaction when one is
// being streamed. Effect: the walsender is stopped (state T), a marker
// written on provider reaches every other node but not subscriber for
// DefaultLagWindow, and the subscription still reports replicating. Heal
// sends SIGCONT; healed when the marker arrived. Keep the hold under
// wal_sender_timeout (60 s).
func StallProvider(c *harness.Cluster, provider, subscriber string) Mode {
	return &workerFault{base: base{c: c, kind: "stall-provider"}, role: walsender, subscriber: subscriber, provider: provider, act: freezeProcess, window: DefaultLagWindow}
}

func (w *workerFault) Node() string      { return w.host() }
func (w *workerFault) Targets() []string { return []string{w.subscriber, w.provider} }
func (w *workerFault) subscription() string {
	return w.c.Flavor.SubscriptionName(w.subscriber, w.provider)
}

// host is the node the process runs on.
func (w *workerFault) host() string {
	if w.role == walsender {
		return w.provider
	}
	return w.subscriber
}

// StartDetail samples the process, so that the effect check knows which
// pid must go even when Inject did nothing.
func (w *workerFault) StartDetail() Detail {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d := Detail{"subscription": w.subscription(), "on": w.host()}
	if w.act == cancelBackend {
		w.logFrom = logSize(ctx, w.c, w.c.Node(w.host()))
	}
	if w.when == InTxn {
		w.subLogFrom = logSize(ctx, w.c, w.c.Node(w.subscriber))
	}
	if pid, err := w.findPID(ctx); err == nil {
		w.pid = pid
		d["pid"] = pid
		if w.slot != "" {
			d["slot"] = w.slot
		}
	} else {
		d["pid_error"] = err.Error()
	}
	return d
}

// findPID is the pid of the process now serving the link, or an error
// when there is none. A walsender is found by the slot it streams (the
// slot's active_pid), an apply worker by the name the flavor gives its
// backend: both per flavor (harness.Flavor SlotNameQuery and
// ApplyWorkerQuery).
func (w *workerFault) findPID(ctx context.Context) (int, error) {
	n, err := nodeByName(w.c, w.host())
	if err != nil {
		return 0, err
	}
	var pid int
	switch w.role {
	case walsender:
		if w.slot == "" {
			if w.slot, err = w.slotName(ctx); err != nil {
				return 0, err
			}
		}
		err = queryRow(ctx, n, 0, `SELECT r.pid FROM pg_replication_slots s JOIN pg_stat_replication r ON r.pid = s.active_pid
WHERE s.slot_name = $1`, []any{w.slot}, &pid)
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, fmt.Errorf("no walsender of %s on %s (slot %s has no active walsender)", w.subscription(), n.Name, w.slot)
		}
	default:
		err = queryRow(ctx, n, 0, w.c.Flavor.ApplyWorkerQuery(), []any{w.subscription()}, &pid)
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, fmt.Errorf("no apply worker of %s on %s", w.subscription(), n.Name)
		}
	}
	if err != nil {
		return 0, fmt.Errorf("find the %s of %s on %s: %w", w.processName(), w.subscription(), n.Name, err)
	}
	return pid, nil
}

// slotName is the slot the provider keeps for the subscription, read in
// the subscriber's catalog.
func (w *workerFault) slotName(ctx context.Context) (string, error) {
	sub, err := nodeByName(w.c, w.subscriber)
	if err != nil {
		return "", err
	}
	var slot string
	err = queryRow(ctx, sub, 0, w.c.Flavor.SlotNameQuery(), []any{w.subscription()}, &slot)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("no subscription %s on %s", w.subscription(), sub.Name)
	}
	if err != nil {
		return "", fmt.Errorf("read the slot name of %s on %s: %w", w.subscription(), sub.Name, err)
	}
	return slot, nil
}

func (w *workerFault) processName() string {
	if w.role == walsender {
		return "walsender"
	}
	return "apply worker"
}

func (w *workerFault) Inject(ctx context.Context) error {
	n, err := nodeByName(w.c, w.host())
	if err != nil {
		return err
	}
	if w.pid == 0 {
		if w.pid, err = w.findPID(ctx); err != nil {
			return err
		}
	}
	if w.act == freezeProcess {
		return signalProcess(ctx, n, w.pid, "STOP")
	}
	if w.when != Anytime {
		if err := w.reachMoment(ctx); err != nil {
			return err
		}
	}
	if w.act == cancelBackend {
		return signalBackend(ctx, n, "pg_cancel_backend", w.pid)
	}
	return signalBackend(ctx, n, "pg_terminate_backend", w.pid)
}

func (w *workerFault) CheckEffective(ctx context.Context, timeout time.Duration) (Detail, error) {
	n, err := nodeByName(w.c, w.host())
	if err != nil {
		return nil, err
	}
	if w.pid == 0 {
		return nil, fmt.Errorf("no %s of %s was found on %s before the fault", w.processName(), w.subscription(), n.Name)
	}
	switch w.act {
	case freezeProcess:
		return w.checkStopped(ctx, n, timeout)
	case cancelBackend:
		return w.checkCanceled(ctx, n, timeout)
	}
	view := "pg_stat_activity"
	if w.role == walsender {
		view = "pg_stat_replication"
	}
	what := fmt.Sprintf("%s %d (%s of %s) to leave %s on %s", w.processName(), w.pid, w.processName(), w.subscription(), view, n.Name)
	err = harness.WaitFor(ctx, what, timeout, 100*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		present, err := countRows(ctx, n, "SELECT count(*) FROM "+view+" WHERE pid = $1", w.pid)
		if err != nil {
			return false, err.Error(), nil
		}
		return present == 0, fmt.Sprintf("pid %d still in %s", w.pid, view), nil
	})
	if err != nil {
		return nil, err
	}
	st, _ := subscriptionStatus(ctx, w.c, w.c.Node(w.subscriber), w.subscription())
	return w.withMoment(Detail{"pid": w.pid, "gone_from": view, "subscription_status": st}), nil
}

// checkStopped: the process is in state T, the link carries nothing for
// the window while the others do, and the subscription still says replicating.
func (w *workerFault) checkStopped(ctx context.Context, n *harness.Node, timeout time.Duration) (Detail, error) {
	what := fmt.Sprintf("%s %d of %s on %s to be stopped", w.processName(), w.pid, w.subscription(), n.Name)
	err := harness.WaitFor(ctx, what, timeout, 100*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		state, err := processState(ctx, n, w.pid)
		if err != nil {
			return false, "", err
		}
		return state == "T", "state " + state, nil
	})
	if err != nil {
		return nil, err
	}
	sub, err := nodeByName(w.c, w.subscriber)
	if err != nil {
		return nil, err
	}
	provider, err := nodeByName(w.c, w.provider)
	if err != nil {
		return nil, err
	}
	token := newToken(w.kind)
	if err := writeMarker(ctx, provider, token); err != nil {
		return nil, err
	}
	w.marker = token
	keepUp, _, err := splitLive(ctx, others(w.c, sub, provider))
	if err != nil {
		return nil, err
	}
	if err := waitMarker(ctx, keepUp, token, provider.Name, timeout); err != nil {
		return nil, fmt.Errorf("the other nodes do not keep up with %s: %w", provider.Name, err)
	}
	if err := markerAbsentFor(ctx, []*harness.Node{sub}, token, provider.Name, w.window); err != nil {
		return nil, err
	}
	st, err := subscriptionStatus(ctx, w.c, sub, w.subscription())
	if err != nil {
		return nil, err
	}
	if st != harness.Replicating {
		return nil, fmt.Errorf("%s on %s is %s: a frozen %s should leave it %s", w.subscription(), sub.Name, st, w.processName(), harness.Replicating)
	}
	return Detail{"pid": w.pid, "process_state": "T", "marker": token, "reached": names(keepUp), "not_reached": sub.Name,
		"window_ms": w.window.Milliseconds(), "subscription_status": st}, nil
}

func (w *workerFault) Heal(ctx context.Context) error {
	if w.hold != nil {
		w.hold.release()
	}
	if w.act != freezeProcess || w.pid == 0 {
		return nil
	}
	n, err := nodeByName(w.c, w.host())
	if err != nil {
		return err
	}
	return signalProcess(ctx, n, w.pid, "CONT")
}

func (w *workerFault) CheckHealed(ctx context.Context, timeout time.Duration) (Detail, error) {
	start := time.Now()
	sub, prov := w.c.Node(w.subscriber), w.c.Node(w.provider)
	if sub == nil || prov == nil {
		return nil, fmt.Errorf("%s: no node %s or %s", w.kind, w.subscriber, w.provider)
	}
	if err := w.c.WaitLinks(ctx, []harness.Link{{Subscriber: sub, Provider: prov}}, timeout); err != nil {
		return nil, err
	}
	token := newToken(w.kind + "-healed")
	if err := writeMarker(ctx, prov, token); err != nil {
		return nil, err
	}
	tokens := []string{token}
	if w.marker != "" {
		tokens = append(tokens, w.marker)
	}
	for _, t := range tokens {
		if err := waitMarker(ctx, []*harness.Node{sub}, t, prov.Name, timeout-time.Since(start)); err != nil {
			return nil, err
		}
	}
	d := Detail{"markers": tokens}
	if err := w.checkTxnArrived(ctx, sub, prov, timeout-time.Since(start), d); err != nil {
		return nil, err
	}
	d["healed_in_ms"] = time.Since(start).Milliseconds()
	if pid, err := w.findPID(ctx); err == nil {
		d["pid_now"] = pid
		if w.act == terminateBackend && pid == w.pid {
			return nil, fmt.Errorf("the %s of %s on %s is still pid %d", w.processName(), w.subscription(), w.host(), pid)
		}
	}
	return d, nil
}

// signalBackend runs fn (pg_terminate_backend: SIGTERM, pg_cancel_backend:
// SIGINT) on one backend and says whether it was there.
func signalBackend(ctx context.Context, n *harness.Node, fn string, pid int) error {
	var ok bool
	if err := queryRow(ctx, n, 10*time.Second, "SELECT "+fn+"($1)", []any{pid}, &ok); err != nil {
		return fmt.Errorf("%s(%d) on %s: %w", fn, pid, n.Name, err)
	}
	if !ok {
		return fmt.Errorf("%s(%d) on %s: no such backend", fn, pid, n.Name)
	}
	return nil
}

// signalProcess sends SIG<sig> to pid of n's pid namespace, from a helper
// that shares it.
func signalProcess(ctx context.Context, n *harness.Node, pid int, sig string) error {
	code, out, err := runTool(ctx, n, fmt.Sprintf("send SIG%s to process %d", sig, pid), "kill", "-"+sig, fmt.Sprint(pid))
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("kill -%s %d on %s: exit %d: %s", sig, pid, n.Name, code, out)
	}
	return nil
}

// processState is the one-letter state of pid in n's container (R, S, T...).
func processState(ctx context.Context, n *harness.Node, pid int) (string, error) {
	code, out, err := runTool(ctx, n, "read state of process "+fmt.Sprint(pid), "cat", fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", err
	}
	if code != 0 {
		return "", fmt.Errorf("process %d on %s is gone: %s", pid, n.Name, out)
	}
	// "pid (comm) S ...": comm may hold spaces, so split after the last ')'.
	i := strings.LastIndexByte(out, ')')
	fields := strings.Fields(out[i+1:])
	if i < 0 || len(fields) == 0 {
		return "", fmt.Errorf("parse /proc/%d/stat on %s: %q", pid, n.Name, out)
	}
	return fields[0], nil
}

// countRows runs a count query on n.
func countRows(ctx context.Context, n *harness.Node, sql string, args ...any) (int, error) {
	var c int
	err := queryRow(ctx, n, 5*time.Second, sql, args, &c)
	return c, err
}
