package fault

import (
	"context"
	"fmt"
	"time"

	"github.com/spockchaos/spockchaos/harness"
)

// Replication-process faults end one backend with SIGTERM
// (pg_terminate_backend): a SIGKILL of any backend makes the postmaster
// restart them all, which is a node crash (Kill). The process is
// sampled before Inject (StartDetail), so a no-op Inject leaves it in
// pg_stat_replication / pg_stat_activity and fails the check. A frozen
// apply worker (SIGSTOP) is proven by state T in /proc, a marker that
// does not reach its node while the subscription still reports
// replicating; Heal sends SIGCONT. Signals and /proc are the helper's,
// which shares the node's pid namespace.

// process is a fault that ends the node's server: kill (SIGKILL, a crash)
// or stop (SIGTERM, a clean shutdown). Healing restarts the container: the
// node comes back with its data directory and rejoins the mesh. The
// container is never removed, so its log and data stay for artifacts.
type process struct {
	base
	signal string
	// clean requires exit code 0 (a clean shutdown) in the effect check.
	clean bool
	// startDetail, when set, is added to the start event (in_flight_at_kill).
	startDetail func() Detail
	// host is the container's init process on this host, resolved before
	// the kill when the caller wants it to land at once (see hostProcess).
	host *hostProcess
	// via says how the signal went: "host" or "engine".
	via string
}

// Kill SIGKILLs node's container: its init process directly when this
// host runs it, else through the Docker API. Effect: the container is not
// running and the node's port refuses connections. Heal restarts it (see
// Restart).
func Kill(c *harness.Cluster, node string) Mode {
	return &process{base: base{c: c, kind: "kill", node: node}, signal: "KILL"}
}

// Stop sends SIGTERM to node's server, PostgreSQL's smart shutdown: it
// waits for client sessions to end, so close them first or the effect
// check times out. Effect: the container exited with code 0 and the port
// refuses connections. Heal restarts it (see Restart).
func Stop(c *harness.Cluster, node string) Mode {
	return &process{base: base{c: c, kind: "stop", node: node}, signal: "TERM", clean: true}
}

func (p *process) StartDetail() Detail {
	d := Detail{"signal": p.signal}
	if p.startDetail != nil {
		for k, v := range p.startDetail() {
			d[k] = v
		}
	}
	return d
}

// Inject sends the signal. SIGKILL goes straight to the container's init
// process when this host runs it (see hostProcess), else through the engine.
func (p *process) Inject(ctx context.Context) error {
	n, err := p.target()
	if err != nil {
		return err
	}
	if p.signal == "KILL" {
		if p.host == nil {
			p.host = resolveHostProcess(ctx, n)
		}
		if p.host.kill() {
			p.via = "host"
			return nil
		}
	}
	p.via = "engine"
	return killContainer(ctx, n, p.signal)
}

func (p *process) CheckEffective(ctx context.Context, timeout time.Duration) (Detail, error) {
	n, err := p.target()
	if err != nil {
		return nil, err
	}
	detail, err := checkDown(ctx, n, p.clean, timeout)
	if detail != nil {
		detail["signal_via"] = p.via
	}
	return detail, err
}

// checkDown waits until n's container has exited (with code 0 if clean)
// and its published port refuses connections.
func checkDown(ctx context.Context, n *harness.Node, clean bool, timeout time.Duration) (Detail, error) {
	detail := Detail{}
	what := fmt.Sprintf("%s to be down (container exited, connections refused)", n.Name)
	err := harness.WaitFor(ctx, what, timeout, 100*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		st, err := containerState(ctx, n)
		if err != nil {
			return false, "", err
		}
		if st.Running {
			return false, "container " + string(st.Status), nil
		}
		if clean && st.ExitCode != 0 {
			return false, "", fmt.Errorf("%s exited with code %d, not a clean shutdown", n.Name, st.ExitCode)
		}
		perr := probe(ctx, n, probeTimeout)
		if perr == nil {
			return false, "container exited but the port still answers", nil
		}
		if !refused(perr) {
			return false, "connect failed but not refused: " + perr.Error(), nil
		}
		detail["exit_code"] = st.ExitCode
		detail["connect_error"] = perr.Error()
		return true, "", nil
	})
	return detail, err
}

func (p *process) Heal(ctx context.Context) error {
	n, err := p.target()
	if err != nil {
		return err
	}
	return restart(ctx, p.c, n)
}

func (p *process) CheckHealed(ctx context.Context, timeout time.Duration) (Detail, error) {
	n, err := p.target()
	if err != nil {
		return nil, err
	}
	return checkRejoined(ctx, p.c, n, timeout)
}

// restart starts n's container again, points n.DSN at the new published
// port (the engine allocates one on every start) and the link proxies
// whose provider is n at its address, which may have changed too.
func restart(ctx context.Context, c *harness.Cluster, n *harness.Node) error {
	if err := startContainer(ctx, n); err != nil {
		return err
	}
	if err := RefreshDSN(ctx, n); err != nil {
		return err
	}
	if links := c.Links(); links != nil {
		return links.Retarget(ctx, n)
	}
	return nil
}

// checkRejoined waits until n accepts connections and every subscription
// between n and each other live node is replicating again.
func checkRejoined(ctx context.Context, c *harness.Cluster, n *harness.Node, timeout time.Duration) (Detail, error) {
	start := time.Now()
	what := fmt.Sprintf("%s to accept connections", n.Name)
	err := harness.WaitFor(ctx, what, timeout, 100*time.Millisecond, func(ctx context.Context) (bool, string, error) {
		if err := probe(ctx, n, probeTimeout); err != nil {
			return false, err.Error(), nil
		}
		return true, "", nil
	})
	if err != nil {
		return nil, err
	}
	accepting := time.Since(start)
	live, _, err := splitLive(ctx, c.Nodes)
	if err != nil {
		return nil, err
	}
	// Only the links of n: a lag elsewhere must not hold the restart up.
	err = c.WaitLinks(ctx, nodeLinks(c, n, names(live)), timeout-time.Since(start))
	if err != nil {
		return nil, fmt.Errorf("%s rejoining: %w", n.Name, err)
	}
	return Detail{
		"accepting_after_ms":   accepting.Milliseconds(),
		"replicating_after_ms": time.Since(start).Milliseconds(),
		"replicating_among":    names(live),
	}, nil
}

// Restart starts a killed or stopped node again without a Fault, refreshes
// its DSN and waits until it has rejoined (see checkRejoined).
func Restart(ctx context.Context, c *harness.Cluster, node string, timeout time.Duration) error {
	n, err := nodeByName(c, node)
	if err != nil {
		return err
	}
	if err := restart(ctx, c, n); err != nil {
		return err
	}
	_, err = checkRejoined(ctx, c, n, timeout)
	return err
}
