package harness

import (
	"context"
	"errors"
	"fmt"
	"sort"
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
	Owner      Owner
}

// OwnerAlive reports whether the process that started the run may still
// run: true unless it is certainly gone (Owner.Liveness).
func (r RunInfo) OwnerAlive() bool { return r.Owner.Liveness() != OwnerDead }

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
			r = &RunInfo{RunID: id, Detached: labels[LabelDetached] == "true", Owner: ownerFromLabels(labels)}
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
// whose owner process is certainly gone (Owner.Liveness). With runIDs it
// looks at those runs only, and a named run it must keep (detached, or its
// owner alive or unknown) or cannot find is an error that says why. It
// returns the run ids it removed.
func Clean(ctx context.Context, runIDs ...string) ([]string, error) {
	runs, err := ListRuns(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[string]RunInfo{}
	for _, r := range runs {
		byID[r.RunID] = r
	}
	var errs []error
	if len(runIDs) > 0 {
		runs = runs[:0]
		for _, id := range runIDs {
			r, ok := byID[id]
			if !ok {
				errs = append(errs, fmt.Errorf("clean %s: no containers or networks labelled %s=%s", id, LabelRun, id))
				continue
			}
			if why := keepReason(r); why != "" {
				errs = append(errs, fmt.Errorf("clean %s: kept: %s", id, why))
				continue
			}
			runs = append(runs, r)
		}
	}
	var removed []string
	for _, r := range runs {
		if keepReason(r) != "" {
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

// keepReason says why Clean must leave r alone ("" if it may remove it).
func keepReason(r RunInfo) string {
	switch {
	case r.Detached:
		return "started with --detach (remove it with spockchaos down " + r.RunID + ")"
	case r.Owner.Liveness() == OwnerAlive:
		return fmt.Sprintf("its process %d still runs", r.Owner.PID)
	case r.Owner.Liveness() == OwnerUnknown:
		return fmt.Sprintf("its process %d is on host %s or in another pid namespace: cannot tell whether it still runs", r.Owner.PID, r.Owner.Host)
	}
	return ""
}
