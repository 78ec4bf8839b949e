package fault

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/harness"
)

// cycleWait bounds each wait of one restart cycle (the worker gone, a
// new one running: pglogical's manager may take a while to start one).
const cycleWait = time.Minute

// subCycle restarts one subscription's apply worker several times in a
// row: by disabling and enabling the subscription, or by switching the
// provider interface it connects through between two interfaces of the
// same DSN (an option change that restarts the worker at commit, in
// pglogical and Spock alike, and replicates the same changes).
type subCycle struct {
	base   // node: the subscriber; peer: the provider
	cycles int
	option bool // switch the interface instead of disable/enable

	first    int      // the apply worker before the fault
	pids     []int    // the apply worker after each cycle
	statuses []string // disable: the status seen while disabled
	iface    string   // option: the subscription's interface before
}

// SubRestartCycle disables and enables subscriber's subscription to
// provider cycles times, each time waiting for its apply worker to go
// and for a new one. Effect: cycles new apply worker pids were seen,
// each disable showed the subscription disabled (or down), and the
// worker running now is not the one before. Heal enables it; healed when
// it replicates and a marker crosses.
func SubRestartCycle(c *harness.Cluster, subscriber, provider string, cycles int) Mode {
	return &subCycle{base: base{c: c, kind: "sub-restart-cycle", node: subscriber, peer: provider}, cycles: cycles}
}

// SubOptionCycle restarts the same apply worker cycles times by an option
// change: the subscription is switched to a second interface of its
// provider with the same DSN and back (pglogical
// alter_subscription_interface, Spock sub_alter_interface; both kill the
// worker at commit, the manager starts a new one). Effect: cycles new
// pids. Heal switches back to the first interface and enables; healed as
// SubRestartCycle.
func SubOptionCycle(c *harness.Cluster, subscriber, provider string, cycles int) Mode {
	return &subCycle{base: base{c: c, kind: "sub-option-cycle", node: subscriber, peer: provider}, cycles: cycles, option: true}
}

func (s *subCycle) subscription() string { return s.c.Flavor.SubscriptionName(s.node, s.peer) }

func (s *subCycle) StartDetail() Detail {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d := Detail{"subscription": s.subscription(), "cycles": s.cycles, "by": "disable/enable"}
	if s.option {
		d["by"] = "interface switch"
	}
	if pid, err := s.applyPID(ctx); err == nil {
		s.first = pid
		d["pid"] = pid
	} else {
		d["pid_error"] = err.Error()
	}
	return d
}

// applyPID is the subscription's apply worker now, or an error.
func (s *subCycle) applyPID(ctx context.Context) (int, error) {
	w := &workerFault{base: base{c: s.c}, role: applyWorker, subscriber: s.node, provider: s.peer}
	return w.findPID(ctx)
}

func (s *subCycle) Inject(ctx context.Context) error {
	n, err := s.target()
	if err != nil {
		return err
	}
	if s.node == s.peer {
		return fmt.Errorf("%s: subscriber and provider are both %s", s.kind, s.node)
	}
	alt := ""
	if s.option {
		if alt, err = s.addAltInterface(ctx, n); err != nil {
			return err
		}
	}
	prev := s.first
	for i := range s.cycles {
		if s.option {
			err = s.switchInterface(ctx, n, []string{alt, s.iface}[i%2])
		} else {
			err = s.disableEnable(ctx, n)
		}
		if err != nil {
			return fmt.Errorf("%s cycle %d of %s on %s: %w", s.kind, i+1, s.subscription(), n.Name, err)
		}
		if prev, err = s.waitNewWorker(ctx, prev); err != nil {
			return fmt.Errorf("%s cycle %d: %w", s.kind, i+1, err)
		}
		s.pids = append(s.pids, prev)
	}
	return nil
}

// disableEnable disables the subscription, waits until its worker has
// gone (noting the status then), and enables it.
func (s *subCycle) disableEnable(ctx context.Context, n *harness.Node) error {
	if err := setSubscriptionEnabled(ctx, s.c, n, s.subscription(), false); err != nil {
		return err
	}
	status := ""
	err := harness.WaitFor(ctx, "the apply worker of "+s.subscription()+" to exit", cycleWait, 50*time.Millisecond,
		func(ctx context.Context) (bool, string, error) {
			if pid, err := s.applyPID(ctx); err == nil {
				return false, fmt.Sprintf("pid %d still runs", pid), nil
			}
			st, err := subscriptionStatus(ctx, s.c, n, s.subscription())
			status = st
			return err == nil, "status " + st, nil
		})
	if err != nil {
		return err
	}
	s.statuses = append(s.statuses, status)
	return setSubscriptionEnabled(ctx, s.c, n, s.subscription(), true)
}

// waitNewWorker waits until an apply worker other than prev serves the
// subscription and returns its pid.
func (s *subCycle) waitNewWorker(ctx context.Context, prev int) (int, error) {
	var pid int
	what := fmt.Sprintf("a new apply worker of %s on %s (was %d)", s.subscription(), s.node, prev)
	err := harness.WaitFor(ctx, what, cycleWait, 50*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		p, err := s.applyPID(ctx)
		if err != nil {
			return false, err.Error(), nil
		}
		pid = p
		return p != prev, fmt.Sprintf("pid %d", p), nil
	})
	return pid, err
}

// addAltInterface notes the subscription's interface and adds another of
// its provider with the same DSN, under a fresh name.
func (s *subCycle) addAltInterface(ctx context.Context, n *harness.Node) (string, error) {
	sw, ok := s.c.Flavor.(harness.InterfaceSwitcher)
	if !ok {
		return "", fmt.Errorf("%s: flavor %s cannot switch a subscription's interface", s.kind, s.c.Flavor.Name())
	}
	schema := pgx.Identifier{s.c.Flavor.Name()}.Sanitize()
	q := fmt.Sprintf(`SELECT i.if_name::text, i.if_dsn FROM %[1]s.subscription s JOIN %[1]s.node_interface i ON i.if_id = s.sub_origin_if
WHERE s.sub_name = $1`, schema)
	var dsn string
	err := queryRow(ctx, n, 10*time.Second, q, []any{s.subscription()}, &s.iface, &dsn)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("no subscription %s on %s", s.subscription(), n.Name)
	}
	if err != nil {
		return "", fmt.Errorf("read the interface of %s on %s: %w", s.subscription(), n.Name, err)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	alt := "spockchaos_cycle_" + hex.EncodeToString(b)
	return alt, runStatements(ctx, n, s.subscription(), sw.AddInterface(s.peer, alt, dsn))
}

func (s *subCycle) switchInterface(ctx context.Context, n *harness.Node, iface string) error {
	sw, ok := s.c.Flavor.(harness.InterfaceSwitcher)
	if !ok {
		return fmt.Errorf("%s: flavor %s cannot switch a subscription's interface", s.kind, s.c.Flavor.Name())
	}
	return runStatements(ctx, n, s.subscription(), sw.UseInterface(s.subscription(), iface))
}

func (s *subCycle) CheckEffective(ctx context.Context, timeout time.Duration) (Detail, error) {
	var now int
	what := fmt.Sprintf("an apply worker of %s on %s", s.subscription(), s.node)
	err := harness.WaitFor(ctx, what, timeout, 100*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		pid, err := s.applyPID(ctx)
		if err != nil {
			return false, err.Error(), nil
		}
		now = pid
		return true, "", nil
	})
	if err != nil {
		return nil, err
	}
	if err := judgeCycles(s.first, s.pids, s.statuses, s.cycles, !s.option, now); err != nil {
		return nil, fmt.Errorf("%s on %s: %w", s.subscription(), s.node, err)
	}
	return Detail{"pid_before": s.first, "pids": s.pids, "statuses_disabled": s.statuses, "pid_now": now}, nil
}

// judgeCycles decides a restart cycle's effect: want restarts were seen,
// each a new pid, each disable (when disabled) left the subscription
// disabled or down, and the worker now is not the one before.
func judgeCycles(first int, pids []int, statuses []string, want int, disabled bool, now int) error {
	if first == 0 {
		return errors.New("no apply worker was sampled before the fault")
	}
	if len(pids) != want {
		return fmt.Errorf("%d worker restarts seen, want %d", len(pids), want)
	}
	prev := first
	for i, pid := range pids {
		if pid == prev || pid == 0 {
			return fmt.Errorf("cycle %d: the apply worker is still pid %d", i+1, prev)
		}
		prev = pid
	}
	if disabled {
		if len(statuses) != want {
			return fmt.Errorf("%d disables observed, want %d", len(statuses), want)
		}
		for i, st := range statuses {
			if !slices.Contains([]string{"disabled", harness.Down}, st) {
				return fmt.Errorf("cycle %d: disabled, the subscription said %q", i+1, st)
			}
		}
	}
	if now == first {
		return fmt.Errorf("the apply worker now is pid %d, the one before the fault", now)
	}
	return nil
}

// Heal switches back to the subscription's interface (option) and
// enables it, whatever Inject left.
func (s *subCycle) Heal(ctx context.Context) error {
	n, err := s.target()
	if err != nil {
		return err
	}
	if s.option && s.iface != "" {
		if err := s.switchInterface(ctx, n, s.iface); err != nil {
			return err
		}
	}
	return setSubscriptionEnabled(ctx, s.c, n, s.subscription(), true)
}

func (s *subCycle) CheckHealed(ctx context.Context, timeout time.Duration) (Detail, error) {
	start := time.Now()
	sub, prov := s.c.Node(s.node), s.c.Node(s.peer)
	if sub == nil || prov == nil {
		return nil, fmt.Errorf("%s: no node %s or %s", s.kind, s.node, s.peer)
	}
	links := []harness.Link{{Subscriber: sub, Provider: prov}}
	if err := s.c.WaitLinks(ctx, links, timeout); err != nil {
		return nil, err
	}
	arrivals, err := crossMarkers(ctx, links, s.kind+"-healed", nil, timeout-time.Since(start))
	if err != nil {
		return nil, err
	}
	return Detail{"arrival_ms_after": arrivals, "healed_in_ms": time.Since(start).Milliseconds()}, nil
}
