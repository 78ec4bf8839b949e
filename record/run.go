package record

import "time"

// Run is everything the runner knows about one run; it is stored as
// run.json and every other file is rendered from it (and history.jsonl).
type Run struct {
	Scenario string `json:"scenario"`
	Seed     int64  `json:"seed"`
	Flavor   string `json:"flavor"`
	// ImageID is the node image (tag and/or id) the nodes ran.
	ImageID  string   `json:"image_id,omitempty"`
	RunID    string   `json:"run_id,omitempty"`
	Versions Versions `json:"versions"`
	// Config is the scenario's configuration as the runner resolved it
	// (any JSON-able value; read back as a generic JSON value).
	Config any `json:"config,omitempty"`
	// Replay is the complete command line that runs this run's plan
	// again: every flag that differed from the scenario's defaults.
	Replay string `json:"replay,omitempty"`
	// Settings are the server settings (NAME -> VALUE) every node ran
	// with besides the harness's own: the scenario's and the user's
	// (--set); absent for a run with none.
	Settings map[string]string `json:"settings,omitempty"`

	Nodes     []Node   `json:"nodes"`
	Survivors []string `json:"survivors,omitempty"`
	Failed    []string `json:"failed,omitempty"`

	Phases   []Phase   `json:"phases"`
	Faults   []Fault   `json:"faults"`
	Recovery *Recovery `json:"recovery,omitempty"`
	// RecoveryTimes are the kill-to-level times per failed node.
	RecoveryTimes []RecoveryTime `json:"recovery_times,omitempty"`
	// SlotAdvances are the times the recovery slots were advanced at a
	// barrier during the load, so that a recovery decodes only what came
	// after the last one.
	SlotAdvances []SlotAdvance `json:"slot_advances,omitempty"`
	// SlotKeeper is what the continuous advancement of the recovery slots
	// did during the load (recovery.Keeper).
	SlotKeeper *KeeperReport `json:"slot_keeper,omitempty"`
	Checkers   []CheckResult `json:"checkers"`
	// Evidence is, for each divergence class of a failed convergence
	// check and each node that lacks (or differs in) its rows, what that
	// node's server logged about them; absent for a run without classes.
	Evidence []ClassEvidence `json:"evidence,omitempty"`
	// Verdict of the run; empty means Combine(Checkers).
	Verdict Verdict `json:"verdict,omitempty"`
	// Error is a harness error that stopped the run (the verdict is then
	// never pass).
	Error string `json:"error,omitempty"`
	// Interrupted says what stopped the run before its end and in which
	// phase (the verdict is then unknown); nil for a run that ran through.
	Interrupted *Interruption `json:"interrupted,omitempty"`

	// Observation is the final state captured from the survivors
	// (a *verify.Observation); Write stores it as observation.json so that
	// `spockchaos check` can re-run the history checkers offline.
	Observation any `json:"-"`
}

// Interruption is what stopped a run: a signal or the run's timeout.
type Interruption struct {
	// Phase is the phase the run was in (the innermost: fault, detect and
	// recover run inside load).
	Phase string `json:"phase"`
	// By is "SIGINT", "SIGTERM" or StoppedByTimeout.
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// StoppedByTimeout is Interruption.By for a run whose timeout passed.
const StoppedByTimeout = "timeout"

// Versions are the software versions of a run.
type Versions struct {
	Go         string `json:"go"`
	Spockchaos string `json:"spockchaos"`
	// PostgreSQL is server_version per node name.
	PostgreSQL map[string]string `json:"postgresql,omitempty"`
	// Flavor is the replication extension's version (e.g. pglogical 2.4.5).
	Flavor string `json:"flavor,omitempty"`
	// PGMajor is the PostgreSQL major the nodes ran (from PostgreSQL).
	PGMajor int `json:"pg_major,omitempty"`
}

// Node is one node of the run and its artifacts. The byte and state fields
// are not stored in run.json: Write puts them under nodes/<name>/.
type Node struct {
	Name          string `json:"name"`
	ServerVersion string `json:"server_version,omitempty"`
	// Files are the node's artifacts, relative to the run directory
	// (filled in by Write from what is on disk).
	Files []string `json:"files,omitempty"`
	// Settings are the run's server settings (Run.Settings) as the node's
	// server showed them once up (SHOW); absent for a run with none.
	Settings map[string]string `json:"settings,omitempty"`

	ServerLog     []byte     `json:"-"`
	BeforeFault   *NodeState `json:"-"`
	AfterRecovery *NodeState `json:"-"`
}

// Phase names, T0..T7 of DESIGN.md section 3, in order.
const (
	PhaseUp      = "up"
	PhaseLoad    = "load"
	PhaseFault   = "fault"
	PhaseDetect  = "detect"
	PhaseRecover = "recover"
	PhaseQuiesce = "quiesce"
	PhaseVerify  = "verify"
	PhaseReport  = "report"
)

// PhaseOrder lists the phases T0..T7.
var PhaseOrder = []string{PhaseUp, PhaseLoad, PhaseFault, PhaseDetect, PhaseRecover, PhaseQuiesce, PhaseVerify, PhaseReport}

// Phase is one phase of the run with its times; End is zero if the phase
// never ended (the run stopped in it).
type Phase struct {
	Name  string    `json:"name"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Error string    `json:"error,omitempty"`
}

// Duration is End-Start, or 0 if the phase never ended.
func (p Phase) Duration() time.Duration {
	if p.End.IsZero() || p.Start.IsZero() {
		return 0
	}
	return p.End.Sub(p.Start)
}

// Fault is one fault injected during the run. End is when it was healed
// (zero for a kill that was never undone).
type Fault struct {
	Kind           string    `json:"kind"`
	Node           string    `json:"node"`
	InFlightAtKill int       `json:"in_flight_at_kill"`
	Start          time.Time `json:"start"`
	End            time.Time `json:"end,omitempty"`
	Detail         string    `json:"detail,omitempty"`
}

// EffectiveVerdict is the run's verdict: Verdict if set, else the
// combination of the checkers; a harness error is never pass.
func (r *Run) EffectiveVerdict() Verdict {
	v := r.Verdict
	if v == "" {
		v = Combine(r.Checkers)
	}
	if r.Error != "" && v == Pass {
		v = Unknown
	}
	return v
}

// StartPhase records that phase name starts now and returns the function
// that ends it (with the error that stopped it, or nil). Call end exactly
// once, also on failure, so the report shows where a run stopped.
func (r *Run) StartPhase(name string) (end func(err error)) {
	r.Phases = append(r.Phases, Phase{Name: name, Start: time.Now().UTC()})
	i := len(r.Phases) - 1
	return func(err error) {
		r.Phases[i].End = time.Now().UTC()
		if err != nil {
			r.Phases[i].Error = err.Error()
		}
	}
}

// ReplayCommand is the command line that replays run's plan: the one the
// runner recorded, or (for run directories made before it did) the
// scenario, seed and flavor.
func ReplayCommand(run *Run) string {
	if run.Replay != "" {
		return run.Replay
	}
	cmd := "spockchaos run " + run.Scenario + " --seed " + itoa(run.Seed)
	if run.Flavor != "" && run.Flavor != "pglogical" {
		cmd += " --flavor " + run.Flavor
	}
	return cmd
}

// ClassEvidence is what one node's server said about one divergence class
// of the run (verify.FindEvidence): its log entries and exception_log rows
// about the class's transactions. No Lines means none was found.
type ClassEvidence struct {
	// Class is the divergence class's line (verify.DivergenceClass.Line).
	Class string `json:"class"`
	// Node is the node whose server was searched.
	Node  string   `json:"node"`
	Lines []string `json:"lines,omitempty"`
	// More counts the lines found beyond those kept.
	More int `json:"more,omitempty"`
	// Note says why the search was partial (e.g. no server log captured).
	Note string `json:"note,omitempty"`
}
