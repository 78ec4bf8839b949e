package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/moby/moby/client"
	"github.com/spockchaos/spockchaos/docker"
)

// cleanupTimeout bounds every removal; removal runs on a fresh context so
// that a cancelled run (Ctrl-C) still cleans up.
const cleanupTimeout = 60 * time.Second

// RunInfo describes a run found in the engine by its labels.
type RunInfo struct {
	RunID      string
	Containers int
	Running    int
	Detached   bool
	OwnerPID   int
	OwnerHost  string
}

// OwnerAlive reports whether the process that started the run still runs
// (only knowable on the same host).
func (r RunInfo) OwnerAlive() bool {
	host, _ := os.Hostname()
	if r.OwnerHost != host || r.OwnerPID <= 0 {
		return r.OwnerHost != host // another host's run: assume alive
	}
	err := syscall.Kill(r.OwnerPID, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// ListRuns lists the runs that have containers or networks in the engine.
func ListRuns(ctx context.Context) ([]RunInfo, error) {
	cli, err := docker.Client(ctx)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	runs := map[string]*RunInfo{}
	get := func(labels map[string]string) *RunInfo {
		id := labels[LabelRun]
		r, ok := runs[id]
		if !ok {
			pid, _ := strconv.Atoi(labels[LabelOwnerPID])
			r = &RunInfo{RunID: id, Detached: labels[LabelDetached] == "true", OwnerPID: pid, OwnerHost: labels[LabelHost]}
			runs[id] = r
		}
		return r
	}
	ctrs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", LabelRun)})
	if err != nil {
		return nil, fmt.Errorf("list containers labelled %s: %w", LabelRun, err)
	}
	for _, c := range ctrs.Items {
		r := get(c.Labels)
		r.Containers++
		if c.State == "running" || c.State == "paused" {
			r.Running++
		}
	}
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: make(client.Filters).Add("label", LabelRun)})
	if err != nil {
		return nil, fmt.Errorf("list networks labelled %s: %w", LabelRun, err)
	}
	for _, n := range nets.Items {
		get(n.Labels)
	}
	out := make([]RunInfo, 0, len(runs))
	for _, r := range runs {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RunID < out[j].RunID })
	return out, nil
}

// RemoveRun force-removes every container (with its anonymous volumes) and
// network labelled with runID. It reports whether anything was found.
func RemoveRun(ctx context.Context, runID string) (bool, error) {
	if runID == "" {
		return false, errors.New("remove run: empty run id")
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	cli, err := docker.Client(ctx)
	if err != nil {
		return false, err
	}
	defer cli.Close()
	filter := make(client.Filters).Add("label", LabelRun+"="+runID)
	ctrs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
	if err != nil {
		return false, fmt.Errorf("remove run %s: list containers: %w", runID, err)
	}
	var errs []error
	for _, c := range ctrs.Items {
		if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			errs = append(errs, fmt.Errorf("remove run %s: container %s (%s): %w", runID, c.Labels[LabelNode], c.ID[:12], err))
		}
	}
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: filter})
	if err != nil {
		return false, fmt.Errorf("remove run %s: list networks: %w", runID, err)
	}
	for _, n := range nets.Items {
		if _, err := cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil {
			errs = append(errs, fmt.Errorf("remove run %s: network %s: %w", runID, n.Name, err))
		}
	}
	return len(ctrs.Items)+len(nets.Items) > 0, errors.Join(errs...)
}

// Clean removes what dead runs left behind: runs not started detached
// whose owner process is gone. It returns the run ids it removed.
func Clean(ctx context.Context) ([]string, error) {
	runs, err := ListRuns(ctx)
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, r := range runs {
		if r.Detached || r.OwnerAlive() {
			continue
		}
		if _, err := RemoveRun(ctx, r.RunID); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, r.RunID)
	}
	return removed, errors.Join(errs...)
}
