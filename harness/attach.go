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
		name := summary.Labels[LabelNode]
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
