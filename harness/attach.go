package harness

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/spockchaos/spockchaos/docker"
)

// Attach returns the cluster of a run that another process started (e.g.
// `spockchaos up --detach`), found by its labels: nodes, their DSNs (the
// password is the containers' POSTGRES_PASSWORD) and the flavor. Nodes
// whose container is not running are left out. Removing the returned
// cluster removes the run.
func Attach(ctx context.Context, runID string) (*Cluster, error) {
	cli, err := docker.Client(ctx)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", LabelRun+"="+runID)})
	if err != nil {
		return nil, fmt.Errorf("attach to run %s: list containers: %w", runID, err)
	}
	if len(list.Items) == 0 {
		return nil, fmt.Errorf("attach to run %s: no containers labelled %s=%s (spockchaos up --detach prints the run id)", runID, LabelRun, runID)
	}
	provider, err := testcontainers.NewDockerProvider()
	if err != nil {
		return nil, fmt.Errorf("attach to run %s: %w", runID, err)
	}
	defer provider.Close()
	c := &Cluster{RunID: runID, log: slog.Default().With("run", runID)}
	var down []string
	for _, summary := range list.Items {
		name, ok := summary.Labels[LabelNode]
		if !ok {
			continue // a helper container (LabelSidecar), not a node
		}
		if summary.State != "running" {
			down = append(down, name)
			continue
		}
		flavor, err := LookupFlavor(summary.Labels[LabelFlavor])
		if err != nil {
			return nil, fmt.Errorf("attach to run %s: node %s: %w", runID, name, err)
		}
		c.Flavor, c.Image = flavor, summary.Image
		dc, err := provider.ContainerFromType(ctx, summary)
		if err != nil {
			return nil, fmt.Errorf("attach to run %s: node %s: %w", runID, name, err)
		}
		inspect, err := cli.ContainerInspect(ctx, summary.ID, client.ContainerInspectOptions{})
		if err != nil {
			return nil, fmt.Errorf("attach to run %s: inspect node %s: %w", runID, name, err)
		}
		for _, env := range inspect.Container.Config.Env {
			if v, ok := strings.CutPrefix(env, "POSTGRES_PASSWORD="); ok {
				c.Password = v
			}
		}
		port, err := dc.MappedPort(ctx, PostgresPort)
		if err != nil {
			return nil, fmt.Errorf("attach to run %s: published port of %s: %w", runID, name, err)
		}
		node := &Node{Name: name, Container: dc, DSN: hostDSN("127.0.0.1", port.Port(), c.Password), NetworkDSN: networkDSN(name, c.Password)}
		node.DirectDSN = directDSN(ctx, node, c.Password)
		c.Nodes = append(c.Nodes, node)
	}
	if len(c.Nodes) == 0 {
		return nil, fmt.Errorf("attach to run %s: no node is running (down: %s)", runID, strings.Join(down, ","))
	}
	sort.Slice(c.Nodes, func(i, j int) bool { return c.Nodes[i].Name < c.Nodes[j].Name })
	if len(down) > 0 {
		c.log.Warn("attached without the nodes that are not running", "down", strings.Join(down, ","))
	}
	return c, nil
}

// AttachServers returns a handle on servers the harness did not start
// (nodes: names and DSNs; no containers), for what needs only SQL: its
// Flavor is the replication extension every node has (pglogical or
// spock), nil on plain servers (ApplySchema then only applies the
// schema); Barrier passes at once, as nothing replicates, when the
// flavor is nil or a node lacks the harness's barrier table
// (spockchaos.barrier). Nodes on different extensions are an error.
func AttachServers(ctx context.Context, nodes []*Node) (*Cluster, error) {
	c := &Cluster{RunID: "servers", Nodes: nodes, log: slog.Default()}
	var flavor string
	for i, n := range nodes {
		ext, barrier, err := serverKind(ctx, n)
		if err != nil {
			return nil, err
		}
		if i > 0 && ext != flavor {
			return nil, fmt.Errorf("attach to servers: %s has replication extension %q, %s has %q", nodes[0].Name, flavor, n.Name, ext)
		}
		flavor = ext
		c.noBarrier = c.noBarrier || !barrier
	}
	if flavor != "" {
		f, err := LookupFlavor(flavor)
		if err != nil {
			return nil, err
		}
		c.Flavor = f
	}
	c.noBarrier = c.noBarrier || c.Flavor == nil
	return c, nil
}

// serverKind reads which replication extension n has ("" for none) and
// whether it has the harness's barrier table.
func serverKind(ctx context.Context, n *Node) (ext string, barrier bool, err error) {
	conn, err := n.Connect(ctx)
	if err != nil {
		return "", false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	err = conn.QueryRow(ctx, `SELECT coalesce((SELECT extname FROM pg_extension WHERE extname IN ('spock', 'pglogical') ORDER BY extname DESC LIMIT 1), ''),
	to_regclass('spockchaos.barrier') IS NOT NULL`).Scan(&ext, &barrier)
	if err != nil {
		return "", false, fmt.Errorf("look up replication extension on %s: %w", n.Name, err)
	}
	return ext, barrier, nil
}
