package fault

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/spockchaos/spockchaos/docker"
	"github.com/spockchaos/spockchaos/harness"
)

// Kill and stop leave the container in place (logs and data directory
// stay for artifacts); their Heal is the restart: the container is
// started again, Node.DSN is rewritten for the new published port (the
// engine allocates one on every start), and the node is healed when it
// accepts connections and every subscription between it and the other
// live nodes is replicating. pglogical's manager restarts an apply
// worker that failed while its provider was down only on a later scan
// (over 80 s was seen); harness.Cluster.WaitLinks re-enables a
// subscription that stays down, which starts its worker at once.
// Restart does the same without a Fault.
//
// Stop sends SIGTERM, which PostgreSQL treats as a smart shutdown: it
// waits for client sessions to end. Its effect check requires exit code
// 0, so a stop with clients still connected times out instead of
// silently turning into a kill.

// withDocker runs fn with a fresh engine client; faults are rare, so a
// client per action keeps no connection open between them.
func withDocker(ctx context.Context, fn func(*client.Client) error) error {
	cli, err := docker.Client(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	return fn(cli.Client)
}

func containerID(n *harness.Node) string { return n.Container.GetContainerID() }

// containerState inspects the node's container.
func containerState(ctx context.Context, n *harness.Node) (*container.State, error) {
	st, err := n.Container.State(ctx)
	if err != nil {
		return nil, fmt.Errorf("inspect container of %s: %w", n.Name, err)
	}
	return st, nil
}

// killContainer sends signal (e.g. "KILL", "TERM") to the node's main process.
func killContainer(ctx context.Context, n *harness.Node, signal string) error {
	return withDocker(ctx, func(cli *client.Client) error {
		if _, err := cli.ContainerKill(ctx, containerID(n), client.ContainerKillOptions{Signal: signal}); err != nil {
			return fmt.Errorf("send SIG%s to container of %s: %w", signal, n.Name, err)
		}
		return nil
	})
}

// startContainer starts the node's stopped container again (same data).
func startContainer(ctx context.Context, n *harness.Node) error {
	return withDocker(ctx, func(cli *client.Client) error {
		if _, err := cli.ContainerStart(ctx, containerID(n), client.ContainerStartOptions{}); err != nil {
			return fmt.Errorf("start container of %s: %w", n.Name, err)
		}
		return nil
	})
}

// pauseAttempts bounds the retries of a pause the cgroup freezer refused.
const pauseAttempts = 5

// pauseContainer freezes n's processes. With cgroup v1 the freezer gives
// up ("unable to freeze") when a process is mid-fork, as PostgreSQL often
// is under load (seen in the gate); runc then thaws again, so the pause is
// retried a few times.
func pauseContainer(ctx context.Context, n *harness.Node) error {
	return withDocker(ctx, func(cli *client.Client) error {
		var err error
		for attempt := 1; attempt <= pauseAttempts; attempt++ {
			if _, err = cli.ContainerPause(ctx, containerID(n), client.ContainerPauseOptions{}); err == nil {
				return nil
			}
			if !strings.Contains(err.Error(), "unable to freeze") {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("pause container of %s: %w", n.Name, ctx.Err())
			case <-time.After(200 * time.Millisecond):
			}
		}
		return fmt.Errorf("pause container of %s: %w", n.Name, err)
	})
}

func unpauseContainer(ctx context.Context, n *harness.Node) error {
	return withDocker(ctx, func(cli *client.Client) error {
		if _, err := cli.ContainerUnpause(ctx, containerID(n), client.ContainerUnpauseOptions{}); err != nil {
			return fmt.Errorf("unpause container of %s: %w", n.Name, err)
		}
		return nil
	})
}

// RefreshDSN rewrites n.DSN with the host port the container publishes
// now (the port is allocated anew on every container start), and
// n.DirectDSN with its address now.
func RefreshDSN(ctx context.Context, n *harness.Node) error {
	port, err := n.Container.MappedPort(ctx, harness.PostgresPort)
	if err != nil {
		return fmt.Errorf("read published port of %s: %w", n.Name, err)
	}
	u, err := url.Parse(n.DSN)
	if err != nil {
		return fmt.Errorf("parse DSN of %s: %w", n.Name, err)
	}
	u.Host = u.Hostname() + ":" + port.Port()
	n.DSN = u.String()
	n.DirectDSN = harness.DirectDSNOf(ctx, n)
	return nil
}

// runTool runs cmd for step in a helper container that joins n's network
// and pid namespaces (harness.RunTool): nothing runs inside the node. It
// returns the exit code and combined output.
func runTool(ctx context.Context, n *harness.Node, step string, cmd ...string) (int, string, error) {
	res, err := harness.RunTool(ctx, n, harness.Tool{Step: step, Cmd: cmd})
	return res.Code, res.Output, err
}

// nodeByName returns the cluster's node or an error naming it.
func nodeByName(c *harness.Cluster, name string) (*harness.Node, error) {
	n := c.Node(name)
	if n == nil {
		return nil, fmt.Errorf("no node %s in run %s", name, c.RunID)
	}
	return n, nil
}
