package scenarios

import (
	"context"
	"slices"
	"time"

	"github.com/spockchaos/spockchaos/harness"
)

// Node artifacts of the run record: each node's replication state before
// the first destructive fault and after recovery (harness.CaptureNodeState)
// and its server log, stored under nodes/<name>/ by record.Write.

// captureBefore records every live node's replication state once, before
// the first destructive fault.
func (r *run) captureBefore(ctx context.Context) {
	if r.captured {
		return
	}
	r.captured = true
	for _, n := range r.nodes(r.alive) {
		st, err := harness.CaptureNodeState(ctx, n.DSN)
		if err != nil {
			r.opts.Logger.Warn("capture node state before fault", "node", n.Name, "err", err)
			continue
		}
		r.report.Node(n.Name).BeforeFault = &st
	}
}

// collectNodeArtifacts takes every node's server log and the survivors'
// replication state after recovery.
func (r *run) collectNodeArtifacts(ctx context.Context) {
	if r.cluster == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for _, n := range r.cluster.Nodes {
		rn := r.report.Node(n.Name)
		if logs, err := r.cluster.ServerLog(ctx, n); err == nil {
			rn.ServerLog = logs
		} else {
			r.opts.Logger.Warn("collect server log", "node", n.Name, "err", err)
		}
		if slices.Contains(r.alive, n.Name) {
			if st, err := harness.CaptureNodeState(ctx, n.DSN); err == nil {
				rn.AfterRecovery = &st
			}
		}
	}
}
