package fault

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/harness"
)

// lockApply makes the apply worker of subscriber <- provider the victim of
// a deadlock with a local session, which then keeps holding the rows.
type lockApply struct {
	base         // node: the subscriber, peer: the provider
	pid      int // the apply worker, sampled by StartDetail
	held     *heldRow
	blocked  int // the apply worker Inject saw waiting for the session
	logFrom  int // the subscriber's server log before the fault
	attempts int
	heldTxns func() HeldTxn // the caller's transactions (WithHeldTxn), nil: barrier rows
}

// lockAttempts bounds Inject's tries: the deadlock makes the apply worker
// its victim only when the session closes the cycle within the worker's
// deadlock_timeout (1 s) of the worker starting to wait.
const lockAttempts = 3

// LockApply: a local session on subscriber locks row A (SELECT ... FOR
// UPDATE on rows of the harness's barrier table) while one transaction of
// provider updates B, then A; once the apply worker waits for A, the
// session asks for B. WithHeldTxn: the caller's transaction instead
// (e.g. a recorded workload op), held by its Block and the cycle closed
// by its Close. The worker's deadlock_timeout (1 s, the session's is 5 s)
// fires first, so the worker is the victim ("deadlock detected"),
// and the session then holds A and B, which the worker's next attempt
// waits for. A deadlock, not lock_timeout: it needs no setting, which on
// both flavors would reach every session of the server's role. Effect:
// the server log of subscriber shows "deadlock detected" from the apply
// worker, and an apply worker of the link waits for the session (pg_locks
// granted = false, pg_blocking_pids names the session). Heal ends the
// session; healed when the link replicates, a marker crosses it and the
// provider's barrier transaction arrived whole (the caller's is left to
// its checkers: a flavor that discards the victim, Spock 5.0.x, loses
// recorded rows instead of stalling the heal).
func LockApply(c *harness.Cluster, subscriber, provider string) Mode {
	return &lockApply{base: base{c: c, kind: "lock-apply", node: subscriber, peer: provider}}
}

func (l *lockApply) subscription() string { return l.c.Flavor.SubscriptionName(l.node, l.peer) }

func (l *lockApply) StartDetail() Detail {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d := Detail{"subscription": l.subscription()}
	l.logFrom = logSize(ctx, l.c, l.c.Node(l.node))
	err := queryRow(ctx, l.c.Node(l.node), 0, l.c.Flavor.ApplyWorkerQuery(), []any{l.subscription()}, &l.pid)
	if err != nil {
		d["pid_error"] = err.Error()
	} else {
		d["pid"] = l.pid
	}
	return d
}

func (l *lockApply) Inject(ctx context.Context) error {
	sub, prov := l.c.Node(l.node), l.c.Node(l.peer)
	if sub == nil || prov == nil {
		return fmt.Errorf("lock-apply: no node %s or %s", l.node, l.peer)
	}
	for l.attempts = 1; l.attempts <= lockAttempts; l.attempts++ {
		err := l.deadlock(ctx, sub, prov)
		if err == nil || !isDeadlock(err) {
			return err
		}
		l.held.release() // the session was the victim: start again
	}
	return fmt.Errorf("the apply worker of %s on %s was never the deadlock's victim in %d attempts", l.subscription(), l.node, lockAttempts)
}

// deadlock is one attempt: it returns the session's deadlock error when
// the session, not the worker, was the victim.
func (l *lockApply) deadlock(ctx context.Context, sub, prov *harness.Node) error {
	if l.heldTxns != nil {
		return l.deadlockHeldTxn(ctx, sub, l.heldTxns())
	}
	h, err := newHeldRows(ctx, sub, prov, l.kind, 2) // tokens[0] is A, tokens[1] is B
	if err != nil {
		return err
	}
	l.held = h
	if err := h.lock(ctx, 0); err != nil {
		return err
	}
	if err := h.providerTxn(ctx, prov, []int{1, 0}, false); err != nil {
		return err
	}
	if l.blocked, _, err = h.waitBlocked(ctx, l.c, l.subscription(), heldSetupTimeout); err != nil {
		return err
	}
	return h.lock(ctx, 1)
}

// deadlockHeldTxn is one attempt on the caller's transaction: Block, the
// transaction written (in the background: it commits on the provider
// whatever the subscriber does), the worker waiting, then Close.
func (l *lockApply) deadlockHeldTxn(ctx context.Context, sub *harness.Node, held HeldTxn) error {
	h := &heldRow{sub: sub, provider: l.peer}
	if err := h.open(ctx); err != nil {
		return err
	}
	l.held = h
	if err := held.Block(ctx, h.conn); err != nil {
		return fmt.Errorf("hold the transaction of %s on %s: %w", l.peer, sub.Name, err)
	}
	written := make(chan error, 1)
	go func() { written <- held.Write(ctx) }()
	var err error
	if l.blocked, _, err = h.waitBlocked(ctx, l.c, l.subscription(), heldSetupTimeout); err != nil {
		if werr := <-written; werr != nil {
			return werr
		}
		return err
	}
	closeCtx, cancel := context.WithTimeout(ctx, heldLockTimeout+5*time.Second)
	defer cancel()
	if err := held.Close(closeCtx, h.conn); err != nil {
		return fmt.Errorf("close the deadlock cycle on %s: %w", sub.Name, err)
	}
	return nil
}

func (l *lockApply) CheckEffective(ctx context.Context, timeout time.Duration) (Detail, error) {
	start := time.Now()
	sub := l.c.Node(l.node)
	pids := slices.DeleteFunc(slices.Compact([]int{l.pid, l.blocked}), func(p int) bool { return p == 0 })
	victim, line, err := waitLogLine(ctx, l.c, sub, l.logFrom, pids, logDeadlock, timeout)
	if err != nil {
		return nil, err
	}
	if l.held == nil {
		return nil, errors.New("no local session holds the rows")
	}
	waiting, lock, err := l.held.waitBlocked(ctx, l.c, l.subscription(), timeout-time.Since(start))
	if err != nil {
		return nil, err
	}
	return Detail{"victim_pid": victim, "server_log": line, "session_pid": l.held.pid, "apply_waiting": waiting,
		"waits_for": lock, "attempts": l.attempts}, nil
}

func (l *lockApply) Heal(context.Context) error {
	if l.held != nil {
		l.held.release()
	}
	return nil
}

func (l *lockApply) CheckHealed(ctx context.Context, timeout time.Duration) (Detail, error) {
	start := time.Now()
	sub, prov := l.c.Node(l.node), l.c.Node(l.peer)
	if err := l.c.WaitLinks(ctx, []harness.Link{{Subscriber: sub, Provider: prov}}, timeout); err != nil {
		return nil, err
	}
	token := newToken(l.kind + "-healed")
	if err := writeMarker(ctx, prov, token); err != nil {
		return nil, err
	}
	if err := waitMarker(ctx, []*harness.Node{sub}, token, prov.Name, timeout-time.Since(start)); err != nil {
		return nil, err
	}
	d := Detail{"marker": token}
	if l.held != nil {
		if err := l.held.checkArrived(ctx, sub, timeout-time.Since(start), d); err != nil {
			if line := discardLine(ctx, l.c, sub, l.logFrom); line != "" {
				err = fmt.Errorf("%w (server log of %s: %s)", err, sub.Name, line)
			}
			return nil, err
		}
	}
	var now int
	if err := queryRow(ctx, sub, 0, l.c.Flavor.ApplyWorkerQuery(), []any{l.subscription()}, &now); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	d["pid_now"] = now
	d["healed_in_ms"] = time.Since(start).Milliseconds()
	return d, nil
}
