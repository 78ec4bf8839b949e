package scenarios

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/recovery/slots"
	"github.com/spockchaos/spockchaos/recovery/spock"
	"github.com/spockchaos/spockchaos/recovery/strategies"
	"github.com/spockchaos/spockchaos/reports"
	"github.com/spockchaos/spockchaos/verify"
	"github.com/spockchaos/spockchaos/workload"
	"github.com/spockchaos/spockchaos/workload/history"
)

// Decisions: the load runs for its duration AND until the plan's last
// step is done plus 2 s, so a step delayed by a slow machine still happens
// under load. A kill is followed at once by detect (the kill's effect
// check) and recover (the strategy, on the nodes still alive), while the
// load goes on; quiesce heals the lags whose both ends survived, then
// waits for every subscription among the survivors and a barrier. A harness
// error gives verdict unknown, never pass; Ctrl-C still writes the run
// directory. The large transaction of kill-mid-large-txn asks for a
// 100 ms commit_delay and the kill goes out the moment COMMIT does: it
// lands before the commit is durable or while the peers receive it (see
// steps.go). Through the load a slots.Keeper advances the recovery
// slots every 0.1 s, without barriers and also while a lag, a pause or a
// partition is in force, to the oldest point a member may still need
// (slots.go, recorded in run.json as slot_keeper): a recovery then decodes
// a fraction of a second of WAL, not the whole run (its samples also
// place each recovery's stream), and steps never wait for it. Beside it a
// slots.Standby keeps a session and a replication connection open to
// every node (standby.go), which the next recovery takes instead of
// logging in. Each
// kill's recovery time (kill to every survivor level: detect + recover)
// is recorded in results.json as recovery_times (recover.go).

// Options are the knobs of one run; zero values take the spec's defaults.
type Options struct {
	// Seed drives every random choice; 0 picks one (printed).
	Seed int64
	// Nodes overrides the spec's node count.
	Nodes int
	// Flavor is the replication flavor (default pglogical).
	Flavor string
	// Image overrides the flavor's node image.
	Image string
	// PG is the PostgreSQL major of the flavor's default image (pglogical's
	// recipe builds 15, 17 and 18); 0 is the default image's. With Image it
	// must be that image's major (checked at start when the tag does not say).
	PG int
	// Recovery overrides the spec's strategy (auto, reference, spock, none).
	Recovery string
	// Duration overrides the spec's load duration.
	Duration time.Duration
	// Timeout overrides the spec's Timeout (the whole run, all phases).
	Timeout time.Duration
	// HoldPhase is a test hook: the run stops at the start of this phase
	// (for up: once the containers run) until it is interrupted or its
	// timeout passes, so a spec can signal it in a phase of its choice.
	// Empty takes $SPOCKCHAOS_HOLD_PHASE.
	HoldPhase string
	// OutDir is the parent of run directories (default DefaultOutDir).
	OutDir string
	// Keep leaves the cluster up when the verdict is not pass.
	Keep bool
	// Progress receives human progress lines (default io.Discard).
	Progress io.Writer
	// Live rewrites a status line in place on Progress (a terminal).
	Live bool
	// Logger receives structured logs (default slog.Default()).
	Logger *slog.Logger
	// Settings are server settings (NAME -> VALUE) for every node, over
	// the spec's Settings of the same name; resolve leaves the merge here,
	// which is what the run records and replays.
	Settings map[string]string
}

// Outcome is what a run produced.
type Outcome struct {
	Verdict verify.Verdict
	// Dir is the run directory with every artifact.
	Dir  string
	Plan Plan
	Run  *record.Run
	// Kept is the cluster left up by Keep (nil when removed).
	Kept *harness.Cluster
}

// NewSeed picks a seed for a run started without one.
func NewSeed() int64 { return rand.Int64N(1 << 31) }

// Resolve fills the defaults of opts from spec and checks them, as Run
// does before it starts anything; the CLI calls it to refuse bad flags
// (also with --plan).
func Resolve(spec *Spec, opts Options) (Options, error) { return resolve(spec, opts) }

// resolve fills the defaults of opts from spec and checks them.
func resolve(spec *Spec, opts Options) (Options, error) {
	if opts.Seed == 0 {
		opts.Seed = NewSeed()
	}
	if opts.Nodes == 0 {
		opts.Nodes = spec.Nodes
	}
	if opts.Nodes < max(spec.MinNodes, harness.MinNodes) || opts.Nodes > harness.MaxNodes {
		return opts, fmt.Errorf("scenario %s needs %d..%d nodes, got %d", spec.Name, max(spec.MinNodes, harness.MinNodes), harness.MaxNodes, opts.Nodes)
	}
	if opts.Flavor == "" {
		opts.Flavor = "pglogical"
	}
	flavor, err := harness.LookupFlavor(opts.Flavor)
	if err != nil {
		return opts, err
	}
	if opts.Image == "" && flavor.DefaultImage() == "" {
		return opts, fmt.Errorf("flavor %s has no default image: name one with --image", opts.Flavor)
	}
	if err := harness.CheckMajor(flavor, opts.Image, opts.PG); err != nil {
		return opts, err
	}
	if len(spec.Flavors) > 0 && !slices.Contains(spec.Flavors, opts.Flavor) {
		return opts, fmt.Errorf("scenario %s does not run on flavor %s (only %v)", spec.Name, opts.Flavor, spec.Flavors)
	}
	opts.Settings = mergeSettings(spec.Settings, opts.Settings)
	if err := harness.CheckSettings(flavor, opts.Nodes, opts.Settings); err != nil {
		return opts, err
	}
	if opts.Recovery == "" {
		opts.Recovery = spec.Recovery
	}
	if _, err := strategies.Lookup(opts.Recovery); err != nil {
		return opts, err
	}
	if opts.Duration == 0 {
		opts.Duration = spec.Load
	}
	if opts.Duration < time.Second {
		return opts, fmt.Errorf("--duration must be at least 1s, got %s", opts.Duration)
	}
	if err := CheckPlan(NewPlan(spec, opts.Seed, opts.Nodes, opts.Duration)); err != nil {
		return opts, fmt.Errorf("scenario %s seed %d: %w", spec.Name, opts.Seed, err)
	}
	if opts.Timeout == 0 {
		opts.Timeout = spec.Timeout
	}
	if opts.Timeout < 0 {
		return opts, fmt.Errorf("--timeout must be positive, got %s", opts.Timeout)
	}
	if opts.HoldPhase == "" {
		opts.HoldPhase = os.Getenv(HoldPhaseEnv)
	}
	if opts.HoldPhase != "" && !slices.Contains(record.PhaseOrder, opts.HoldPhase) {
		return opts, fmt.Errorf("%s=%q is not a phase (%v)", HoldPhaseEnv, opts.HoldPhase, record.PhaseOrder)
	}
	if opts.OutDir == "" {
		opts.OutDir = DefaultOutDir
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return opts, nil
}

// Run executes spec with opts: phases T0..T7, artifacts in a new run
// directory. It returns an Outcome whenever a run directory was created,
// also with a harness error (the verdict is then Unknown, never Pass).
// Cancelling ctx (Ctrl-C; a harness.Interrupt cause names the signal) or
// the run's timeout passing stops the run in whatever phase it is, removes
// the cluster and still writes what the run has; run.json's interrupted
// says in which phase and by what, and the verdict is Unknown, also when
// the signal comes while the report is being written.
func Run(ctx context.Context, spec *Spec, opts Options) (*Outcome, error) {
	opts, err := resolve(spec, opts)
	if err != nil {
		return nil, err
	}
	wl, err := workload.Lookup(spec.Workload)
	if err != nil {
		return nil, err
	}
	plan := NewPlan(spec, opts.Seed, opts.Nodes, opts.Duration)
	if err := checkCapabilities(ctx, plan, opts); err != nil {
		return nil, err
	}
	out := &progress{w: opts.Progress, live: opts.Live}
	replay := ReplayCommand(spec, opts)
	// The run directory first: a bad --out is one line, before any output.
	start := time.Now()
	dir, err := record.NewRunDir(opts.OutDir, spec.Name, opts.Seed, start)
	if err != nil {
		return nil, err
	}
	out.linef("scenario %s seed %d (replay: %s)\n", spec.Name, opts.Seed, replay)
	out.linef("%s", plan.String())

	histPath := filepath.Join(dir, "history.jsonl")
	rec, err := history.Create(histPath)
	if err != nil {
		return nil, err
	}
	// The run id is known before anything starts, so that run.json names
	// it (and `spockchaos clean RUN_ID` can be told) even when the run
	// stops inside harness.Start.
	runID := harness.NewRunID()
	r := &run{spec: spec, opts: opts, plan: plan, wl: wl, rec: rec, dir: dir, out: out, started: start, runID: runID,
		report: &record.Run{Scenario: spec.Name, Seed: opts.Seed, Flavor: opts.Flavor, RunID: runID, Config: runConfig(spec, opts, plan), Replay: replay, Settings: opts.Settings}}
	out.linef("run id %s (containers and network labelled %s=%s)\n", runID, harness.LabelRun, runID)
	runCtx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	r.runCtx = runCtx
	// Note the phase the moment the run is stopped, not when the phases
	// have unwound (every phase also notes it before it ends: this
	// goroutine may be scheduled late).
	unwatch := context.AfterFunc(runCtx, func() { r.noteStop(runCtx) })
	defer unwatch()
	runErr := r.execute(runCtx)
	if stop := r.stop(); stop != nil {
		runErr = r.stopError(stop, runErr)
	} else if runErr == nil && ctx.Err() != nil {
		runErr = fmt.Errorf("interrupted: %w", ctx.Err())
	}
	res := r.finish(context.WithoutCancel(ctx), runErr, histPath)
	if runErr == nil && r.stop() != nil {
		runErr = r.stopError(r.stop(), nil) // stopped while the report was written
	}
	return res, runErr
}

// run is the state of one execution.
type run struct {
	spec    *Spec
	opts    Options
	plan    Plan
	wl      workload.Workload
	rec     *history.Recorder
	dir     string
	out     *progress
	started time.Time
	report  *record.Run
	cluster *harness.Cluster
	runID   string
	// runCtx is the run's context (signals, timeout), for hold and for
	// noting a stop during the report phase, which runs without it.
	runCtx  context.Context
	phases  phaseTracker
	mu      sync.Mutex
	stopped *record.Interruption

	alive  []string // nodes up at the end
	failed []string // nodes lost for good, in the order they failed
	lags   []*lagFault
	// loadStart is when the load began: a step's At counts from it.
	loadStart time.Time
	captured  bool // node state before the first fault taken
	// aliveMu guards writes of alive and the slot keeper's reads of it
	// (see slots.go); the runner's own reads need no lock.
	aliveMu sync.Mutex

	// recoverySession owns the keeper, the standby and the recoveries'
	// results (recover.go).
	recoverySession

	rejoins []*rejoinResult
	ddls    []*ddlStep // the ddl steps done (steps_ddl.go)
	// disabledSubs: subscriptions the server disabled during a held
	// fault, to the index of that fault's record (heal_disabled.go).
	disabledSubs map[touchedSub]int
	// membership: the joins and removals of the run (membership.go).
	membership []*joinResult
	// joined hands a node that joined during the load to the workload,
	// which gives it clients (nil outside the load).
	joined chan workload.Target

	// exceptions is what the exception-audit checker read, stored with
	// the observation (observation.json) for `spockchaos check`.
	exceptions *verify.ExceptionCapture
	wal        *verify.WALCapture
}

func (r *run) histPath() string { return filepath.Join(r.dir, "history.jsonl") }

// phase runs fn as the named phase, recording its start and end and
// flushing the history at its end.
func (r *run) phase(name string, fn func() error) error {
	r.out.linef("phase %-8s (%s since the run started)\n", name, time.Since(r.started).Round(100*time.Millisecond))
	p := record.Phase{Name: name, Start: time.Now().UTC()}
	r.phases.enter(name)
	var err error
	if name != record.PhaseUp { // up holds once its containers run
		err = r.hold(name)
	}
	if err == nil {
		err = fn()
	}
	r.noteStopIfDone()
	r.phases.leave()
	p.End = time.Now().UTC()
	if err != nil {
		p.Error = err.Error()
	}
	r.report.AddPhase(p)
	if ferr := r.rec.Flush(); ferr != nil && err == nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("phase %s: %w", name, err)
	}
	return nil
}

func (r *run) execute(ctx context.Context) error {
	if err := r.phase(record.PhaseUp, func() error { return r.up(ctx) }); err != nil {
		return err
	}
	if err := r.loadWithFaults(ctx); err != nil {
		return err
	}
	qerr := r.phase(record.PhaseQuiesce, func() error { return r.quiesce(ctx) })
	if qerr != nil && (!errors.Is(qerr, errNotQuiesced) || r.stop() != nil) {
		return qerr
	}
	if err := r.phase(record.PhaseVerify, func() error { return r.verify(ctx) }); err != nil || qerr == nil {
		return err
	}
	var err error
	r.report.Checkers, err = afterStalledQuiesce(qerr, r.report.Checkers)
	return err
}

func (r *run) up(ctx context.Context) error {
	flavor, _ := harness.LookupFlavor(r.opts.Flavor)
	c, err := harness.Start(ctx, harness.Config{Nodes: r.opts.Nodes, Flavor: flavor, Image: r.opts.Image, PGMajor: r.opts.PG, RunID: r.runID,
		Schema: r.wl.Schema(), Detached: r.opts.Keep, Progress: r.opts.Progress, Logger: r.opts.Logger,
		LinkProxies: r.plan.NeedsLinkProxies(), ClockSkew: r.plan.NeedsClockSkew(), Settings: r.opts.Settings})
	if err != nil {
		return err
	}
	r.cluster = c
	r.report.RunID, r.report.ImageID = c.RunID, c.Image
	if err := r.recordSettings(ctx); err != nil {
		return err
	}
	if err := r.hold(record.PhaseUp); err != nil {
		return err
	}
	for _, n := range c.Nodes {
		r.alive = append(r.alive, n.Name)
	}
	if r.opts.Recovery == "spock" {
		// Say so now, not after the load: this server cannot run it.
		api, err := spock.DetectSpockAPI(ctx, c.Nodes[0].DSN, time.Minute)
		if err != nil {
			return fmt.Errorf("detect Spock recovery API on %s: %w", c.Nodes[0].Name, err)
		}
		if api == "" {
			return fmt.Errorf("%s: %w", c.Nodes[0].Name, spock.ErrNoSpockAPI)
		}
		r.out.linef("Spock recovery API: %s\n", api)
	}
	if err := slots.PrepareSlots(ctx, c); err != nil {
		return err
	}
	if err := r.wl.Setup(ctx, r.targets(r.alive), r.rec); err != nil {
		return err
	}
	return c.Barrier(ctx, c.Nodes, time.Minute)
}

// finish writes the report (whatever happened) and removes the cluster
// unless it is to be kept.
func (r *run) finish(ctx context.Context, runErr error, histPath string) *Outcome {
	out := &Outcome{Dir: r.dir, Plan: r.plan, Run: r.report}
	_ = r.phase(record.PhaseReport, func() error {
		r.collectNodeArtifacts(ctx)
		r.report.Evidence = r.divergenceEvidence()
		r.report.Recovery, r.report.SlotKeeper = recoveryRecord(r.recovered), keeperRecord(r.keeperReport)
		r.report.Conclude(r.alive, r.failed, runErr)
		return nil
	})
	// A stop during the report phase still makes the verdict unknown:
	// the report was not finished as the run meant it.
	if stop := r.stop(); stop != nil {
		r.report.Interrupt(*stop, r.stopError(stop, nil))
	}
	if err := r.rec.Close(); err != nil && runErr == nil {
		r.report.Broken(err)
	}
	out.Verdict = r.report.Verdict
	// Write also points the parent's "latest" link at dir.
	if err := reports.Write(r.dir, r.report, histPath); err != nil {
		r.opts.Logger.Error("write report", "dir", r.dir, "err", err)
		out.Verdict = verify.Unknown
	}
	if r.stop() != nil {
		out.Verdict = verify.Unknown
	}
	if r.cluster != nil {
		// --keep keeps a failed or timed-out cluster for inspection, but a
		// signal means "stop": the cluster goes.
		interrupted := r.stop() != nil && r.stop().By != record.StoppedByTimeout
		if r.opts.Keep && out.Verdict != verify.Pass && !interrupted {
			out.Kept = r.cluster
			r.bypassLinkProxies(ctx)
		} else if err := r.cluster.Remove(ctx); err != nil {
			r.opts.Logger.Error("remove cluster", "run", r.cluster.RunID, "err", err)
		}
	}
	return out
}

func (r *run) targets(names []string) []workload.Target {
	out := make([]workload.Target, 0, len(names))
	for _, name := range names {
		if n := r.cluster.Node(name); n != nil {
			out = append(out, workload.Target{Name: n.Name, DSN: n.DSN, DSNNow: r.dsnNow(n)})
		}
	}
	return out
}

// dsnNow reads n's DSN under aliveMu, under which a restart rewrites it.
func (r *run) dsnNow(n *harness.Node) func() string {
	return func() string {
		r.aliveMu.Lock()
		defer r.aliveMu.Unlock()
		return n.DSN
	}
}

func (r *run) nodes(names []string) []*harness.Node {
	out := make([]*harness.Node, 0, len(names))
	for _, name := range names {
		out = append(out, r.cluster.Node(name))
	}
	return out
}

func (r *run) markFailed(node string) {
	r.aliveMu.Lock()
	defer r.aliveMu.Unlock()
	r.alive = remove(r.alive, node)
	r.failed = append(r.failed, node)
}

func runConfig(spec *Spec, opts Options, plan Plan) map[string]any {
	return map[string]any{
		"nodes": opts.Nodes, "flavor": opts.Flavor, "image": opts.Image, "pg": opts.PG, "recovery": opts.Recovery,
		"load": opts.Duration.String(), "workload": spec.Workload, "clients_per_node": spec.ClientsPerNode,
		"checkers": spec.Checkers, "expect": spec.ExpectFor(opts.Flavor), "plan": plan.Steps, "keep": opts.Keep,
	}
}

func remove(list []string, s string) []string {
	out := make([]string, 0, len(list))
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

// ReplayCommand is the command line that runs spec with opts (resolved)
// again: the scenario and seed, and every flag whose value is not the
// scenario's default (flavor, image, nodes, recovery, duration).
func ReplayCommand(spec *Spec, opts Options) string {
	cmd := fmt.Sprintf("spockchaos run %s --seed %d", spec.Name, opts.Seed)
	if opts.Flavor != "" && opts.Flavor != "pglogical" {
		cmd += " --flavor " + opts.Flavor
	}
	if opts.Image != "" {
		cmd += " --image " + opts.Image
	}
	if opts.PG != 0 {
		cmd += fmt.Sprintf(" --pg %d", opts.PG)
	}
	if opts.Nodes != 0 && opts.Nodes != spec.Nodes {
		cmd += fmt.Sprintf(" --nodes %d", opts.Nodes)
	}
	if opts.Recovery != "" && opts.Recovery != spec.Recovery {
		cmd += " --recovery " + opts.Recovery
	}
	if opts.Duration != 0 && opts.Duration != spec.Load {
		cmd += " --duration " + opts.Duration.String()
	}
	// Every setting that ran, the spec's too: they are what the run was.
	for _, kv := range harness.FormatSettings(opts.Settings) {
		cmd += " --set " + shellWord(kv)
	}
	return cmd
}

// recordSettings notes what each node's server shows for the run's
// settings (run.json nodes[].settings), and says it on the progress.
func (r *run) recordSettings(ctx context.Context) error {
	if len(r.opts.Settings) == 0 {
		return nil
	}
	names := harness.SortedNames(r.opts.Settings)
	for _, n := range r.cluster.Nodes {
		shown, err := harness.ShowSettings(ctx, n, names)
		if err != nil {
			return err
		}
		r.report.Node(n.Name).Settings = shown
		r.out.linef("settings on %s: %s\n", n.Name, strings.Join(harness.FormatSettings(shown), " "))
	}
	return nil
}

// shellWord quotes s for a POSIX shell when it holds anything but
// letters, digits and _.=,:/@%+-.
func shellWord(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_.=,:/@%+-", r)) {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}

// mergeSettings is the spec's settings with the user's over them (nil when
// both are empty, so that run.json stays as before).
func mergeSettings(spec, user map[string]string) map[string]string {
	if len(spec) == 0 && len(user) == 0 {
		return nil
	}
	return harness.MergeSettings(spec, user)
}
