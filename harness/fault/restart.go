package fault

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spockchaos/spockchaos/harness"
)

// Provider and subscription faults (restart.go, subcycle.go;
// StallProvider is the walsender's StopApply). RestartProvider's
// Inject is the whole restart (SIGINT to the postmaster: a fast
// shutdown, which took ~5 s with a large transaction streaming; then
// start): its proof is a new pg_postmaster_start_time(), the server
// log since the fault (fast shutdown request, "database system is shut
// down", a start with no crash recovery) and, healed, a new walsender
// per subscriber. The cycles do their N restarts in Inject, sampling
// the apply worker's pid after each; the effect check judges those
// samples and the pid now (judgeCycles). The option that restarts a
// worker without changing what it replicates is the provider
// interface: a second one with the same DSN, switched to and back
// (both flavors kill the worker at commit). WaitApplyInTxn lets a
// caller land a fault while a subscriber applies a large transaction.

// shutdownWait bounds a fast shutdown: a logical walsender may first
// send what it has decoded and wait for its subscriber's confirmation.
const shutdownWait = 2 * time.Minute

// providerRestart restarts a node gracefully: a fast shutdown (SIGINT to
// the postmaster, pg_ctl stop -m fast), then the same container started
// again. Unlike Stop it does not wait for client sessions, and unlike
// Kill the server shuts down cleanly: no crash recovery at start.
type providerRestart struct {
	base
	started    time.Time      // pg_postmaster_start_time() before
	logOffset  int            // bytes of the server log before
	walsenders map[string]int // subscriber -> pid of its walsender before
	downFor    time.Duration  // how long the shutdown took
}

// RestartProvider restarts node with a fast shutdown and starts it again
// (in Inject), while its subscribers may be mid-stream. Effect: the
// postmaster's start time changed, the server log since the fault shows
// the fast shutdown ending in "database system is shut down" and a start
// without crash recovery. Heal has nothing to undo (it starts the node
// should Inject have stopped short); healed when every link to and from
// node replicates, a marker crosses each, and each subscriber of node is
// served by a new walsender.
func RestartProvider(c *harness.Cluster, node string) Mode {
	return &providerRestart{base: base{c: c, kind: "restart-provider", node: node}}
}

// StartDetail samples what the effect and heal checks compare against.
func (p *providerRestart) StartDetail() Detail {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	d := Detail{"shutdown": "fast"}
	n, err := p.target()
	if err != nil {
		d["sample_error"] = err.Error()
		return d
	}
	if err := queryRow(ctx, n, 5*time.Second, "SELECT pg_postmaster_start_time()", nil, &p.started); err != nil {
		d["sample_error"] = err.Error()
	} else {
		d["postmaster_started"] = p.started
	}
	if log, err := p.c.ServerLog(ctx, n); err == nil {
		p.logOffset = len(log)
	}
	p.walsenders = p.walsenderPIDs(ctx)
	d["walsenders"] = p.walsenders
	return d
}

// walsenderPIDs maps each live peer to the pid of node's walsender that
// streams to it (peers with none are left out).
func (p *providerRestart) walsenderPIDs(ctx context.Context) map[string]int {
	out := map[string]int{}
	live, err := p.liveAmong(ctx, names(others(p.c, p.c.Node(p.node))))
	if err != nil {
		return out
	}
	for _, peer := range live {
		ws := &workerFault{base: base{c: p.c}, role: walsender, provider: p.node, subscriber: peer.Name}
		if pid, err := ws.findPID(ctx); err == nil {
			out[peer.Name] = pid
		}
	}
	return out
}

// Inject sends SIGINT to the postmaster, waits until the container has
// exited, then starts it again (restart: new port, proxies retargeted).
func (p *providerRestart) Inject(ctx context.Context) error {
	n, err := p.target()
	if err != nil {
		return err
	}
	t0 := time.Now()
	if err := killContainer(ctx, n, "INT"); err != nil {
		return err
	}
	err = harness.WaitFor(ctx, "fast shutdown of "+n.Name, shutdownWait, 100*time.Millisecond,
		func(ctx context.Context) (bool, string, error) {
			st, err := containerState(ctx, n)
			if err != nil {
				return false, "", err
			}
			return !st.Running, string(st.Status), nil
		})
	if err != nil {
		return err
	}
	p.downFor = time.Since(t0)
	return restart(ctx, p.c, n)
}

func (p *providerRestart) CheckEffective(ctx context.Context, timeout time.Duration) (Detail, error) {
	n, err := p.target()
	if err != nil {
		return nil, err
	}
	if p.started.IsZero() {
		return nil, fmt.Errorf("the postmaster start time of %s was not sampled before the fault", n.Name)
	}
	var now time.Time
	err = harness.WaitFor(ctx, n.Name+" to answer after its restart", timeout, 200*time.Millisecond,
		func(ctx context.Context) (bool, string, error) {
			if err := queryRow(ctx, n, probeTimeout, "SELECT pg_postmaster_start_time()", nil, &now); err != nil {
				return false, err.Error(), nil
			}
			return true, "", nil
		})
	if err != nil {
		return nil, err
	}
	if !now.After(p.started) {
		return nil, fmt.Errorf("%s: the postmaster started at %s, as before the fault: it was not restarted", n.Name, now.Format(time.RFC3339Nano))
	}
	log, err := p.c.ServerLog(ctx, n)
	if err != nil {
		return nil, err
	}
	evidence, err := judgeShutdownLog(string(log[min(p.logOffset, len(log)):]))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", n.Name, err)
	}
	return Detail{"postmaster_started_before": p.started, "postmaster_started_after": now,
		"shutdown_ms": p.downFor.Milliseconds(), "log": evidence}, nil
}

// Heal starts the node if Inject stopped short of it.
func (p *providerRestart) Heal(ctx context.Context) error {
	n, err := p.target()
	if err != nil {
		return err
	}
	st, err := containerState(ctx, n)
	if err != nil || st.Running {
		return err
	}
	return restart(ctx, p.c, n)
}

func (p *providerRestart) CheckHealed(ctx context.Context, timeout time.Duration) (Detail, error) {
	start := time.Now()
	n, err := p.target()
	if err != nil {
		return nil, err
	}
	d, err := checkRejoined(ctx, p.c, n, timeout)
	if err != nil {
		return nil, err
	}
	arrivals, err := crossMarkers(ctx, nodeLinks(p.c, n, d["replicating_among"].([]string)), p.kind+"-healed", nil, timeout-time.Since(start))
	if err != nil {
		return nil, err
	}
	d["arrival_ms_after"] = arrivals
	now := p.walsenderPIDs(ctx)
	if err := walsendersReplaced(p.walsenders, now); err != nil {
		return nil, fmt.Errorf("%s: %w", n.Name, err)
	}
	d["walsenders_before"], d["walsenders_after"] = p.walsenders, now
	return d, nil
}

// walsendersReplaced: every subscriber that had a walsender before is
// served by another one now (its link went down and came back).
func walsendersReplaced(before, now map[string]int) error {
	var bad []string
	for sub, pid := range before {
		switch cur, ok := now[sub]; {
		case !ok:
			bad = append(bad, fmt.Sprintf("%s has no walsender now (was %d)", sub, pid))
		case cur == pid:
			bad = append(bad, fmt.Sprintf("%s is still served by walsender %d", sub, pid))
		}
	}
	if len(before) == 0 {
		return fmt.Errorf("no walsender was sampled before the fault")
	}
	if len(bad) > 0 {
		return fmt.Errorf("links not restarted: %s", strings.Join(bad, "; "))
	}
	return nil
}

// Log texts of PostgreSQL's postmaster around a shutdown and the next start.
const (
	logFastShutdown = "received fast shutdown request"
	logShutDown     = "database system is shut down"
	logCleanStart   = "database system was shut down at"
)

// crashSigns are texts that only a crash or crash recovery logs.
var crashSigns = []string{"database system was interrupted", "not properly shut down",
	"automatic recovery in progress", "terminating any other active server processes"}

// judgeShutdownLog decides from the server log written since the fault
// whether the node went through a fast shutdown and a clean start, and
// returns the lines that show it.
func judgeShutdownLog(log string) ([]string, error) {
	var evidence []string
	found := map[string]bool{}
	for _, line := range strings.Split(log, "\n") {
		for _, sign := range crashSigns {
			if strings.Contains(line, sign) {
				return nil, fmt.Errorf("the server log shows a crash, not a clean shutdown: %s", strings.TrimSpace(line))
			}
		}
		for _, want := range []string{logFastShutdown, logShutDown, logCleanStart} {
			if strings.Contains(line, want) && !found[want] {
				found[want] = true
				evidence = append(evidence, strings.TrimSpace(line))
			}
		}
	}
	for _, want := range []string{logFastShutdown, logShutDown, logCleanStart} {
		if !found[want] {
			return nil, fmt.Errorf("the server log since the fault lacks %q", want)
		}
	}
	return evidence, nil
}
