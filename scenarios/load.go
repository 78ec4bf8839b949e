package scenarios

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/workload"
)

// loadWithFaults runs the workload (T1) and, during it, the plan's steps
// at their offsets (T2..T4 for each kill). A step that fails stops the
// load and is the run's error.
func (r *run) loadWithFaults(ctx context.Context) error {
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	load := record.Phase{Name: record.PhaseLoad, Start: time.Now().UTC()}
	type result struct {
		stats workload.Stats
		err   error
	}
	done := make(chan result, 1)
	// The load has no duration of its own: it stops when its duration has
	// passed AND the plan is done (plus a tail), so that a step delayed by
	// a slow machine still happens under load.
	r.joined = make(chan workload.Target, len(r.plan.Steps))
	defer func() { r.joined = nil }()
	cfg := workload.RunConfig{Nodes: r.targets(r.alive), Recorder: r.rec, Seed: r.opts.Seed,
		ClientsPerNode: r.spec.ClientsPerNode, Progress: r.showProgress, Reconnect: r.plan.reconnect(), Joined: r.joined}
	r.out.linef("phase %s (%s, %s)\n", record.PhaseLoad, r.wl.Name(), r.opts.Duration)
	go func() {
		stats, err := r.wl.Run(loadCtx, cfg)
		done <- result{stats, err}
	}()

	r.phases.enter(record.PhaseLoad)
	defer func() {
		r.noteStopIfDone()
		r.phases.leave()
	}()
	stepErr := r.hold(record.PhaseLoad)
	stopKeeper := r.startSlotKeeper(ctx)
	stopStandby := r.startStandby(ctx)
	r.loadStart = load.Start
	for _, group := range stepGroups(r.plan.Steps) {
		if stepErr != nil {
			break
		}
		if err := sleepUntil(ctx, load.Start.Add(group[0].At)); err != nil {
			stepErr = err
			break
		}
		if err := r.doGroup(ctx, group); err != nil {
			stepErr = fmt.Errorf("step %q: %w", group[0], err)
			if len(group) > 1 {
				stepErr = fmt.Errorf("steps overlapping from %q: %w", group[0], err)
			}
			break
		}
	}
	if stepErr == nil {
		stepErr = sleepUntil(ctx, laterOf(load.Start.Add(r.opts.Duration), time.Now().Add(loadTail)))
	}
	stopLoad()
	stopKeeper()
	stopStandby()
	var res result
	select {
	case res = <-done:
	case <-time.After(2 * time.Minute):
		stopLoad()
		res = result{err: fmt.Errorf("workload %s did not stop within %s of being told to", r.wl.Name(), 2*time.Minute)}
	}
	load.End = time.Now().UTC()
	if err := errors.Join(stepErr, res.err); err != nil {
		load.Error = err.Error() // the report shows where the run stopped
	}
	r.report.AddPhase(load)
	if err := r.rec.Flush(); err != nil {
		return err
	}
	// The progress lines are samples every 2 s; this line counts every op,
	// including those that ended after the last sample.
	r.out.linef("load done, final counts: %d ok, %d fail, %d info in %s\n", res.stats.Ok, res.stats.Fail, res.stats.Info, res.stats.Elapsed.Round(time.Millisecond))
	if stepErr != nil {
		return stepErr
	}
	if res.err != nil {
		return fmt.Errorf("workload %s: %w", r.wl.Name(), res.err)
	}
	return nil
}

// showProgress shows the workload's figures: live on a terminal, a plain
// line every 2 seconds otherwise.
func (r *run) showProgress(s workload.Stats) {
	if !r.out.live && s.Elapsed.Round(time.Second)%(2*time.Second) != 0 {
		return
	}
	line := fmt.Sprintf("  load %s %s/%s  %.0f ops/s  ok=%d fail=%d info=%d", bar(s.Elapsed, r.opts.Duration),
		s.Elapsed.Round(time.Second), r.opts.Duration, s.Rate(), s.Ok, s.Fail, s.Info)
	for _, name := range progressNodes(r.plan.Nodes, s.PerNode) {
		line += fmt.Sprintf("  %s:%d", name, s.PerNode[name].Ops())
	}
	r.out.statusf("%s", line)
}

// progressNodes are the nodes of a progress line: the plan's that have
// figures, in the plan's order, then any other (a joined node), sorted.
func progressNodes(planned []string, perNode map[string]workload.NodeStats) []string {
	var out, extra []string
	for _, name := range planned {
		if _, ok := perNode[name]; ok {
			out = append(out, name)
		}
	}
	for name := range perNode {
		if !slices.Contains(planned, name) {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	return append(out, extra...)
}

// restartReconnect is how long a client keeps reconnecting to its node
// when the plan restarts nodes: longer than a crash-restart's hold and
// start, so that the restarted node gets its clients back (the workload's
// own default, 2 s, is shorter than any restart).
const restartReconnect = 45 * time.Second

// reconnect is the workload's Reconnect for the plan (0: its default).
func (p Plan) reconnect() time.Duration {
	if slices.ContainsFunc(p.Steps, func(s Step) bool {
		return s.Kind == StepRestart || s.Kind == StepRestartProvider || s.Kind == StepAddNode && s.When == joinSourceCrash
	}) {
		return restartReconnect
	}
	return 0
}

// loadTail is how long the load goes on after the plan's last step.
const loadTail = 2 * time.Second

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
