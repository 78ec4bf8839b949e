package repro

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/spockchaos/spockchaos/docker"
	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
)

// Recorded is what a stored run ran, read from its run.json.
type Recorded struct {
	Dir            string
	Scenario       string
	Seed           int64
	Nodes          int
	Flavor         string
	Image          string // as asked (empty: the flavor's default)
	PG             int    // PostgreSQL major asked (--pg) or, for the default image, the one the nodes ran
	ImageID        string // as used
	Recovery       string
	Duration       time.Duration
	ClientsPerNode int
	Steps          []scenarios.Step
	Version        string // spockchaos version that made the run
	Verdict        verify.Verdict
	Failed         []string // checkers whose verdict was not pass
	Replay         string
	// Settings are the server settings the nodes ran with (run.json's
	// settings: the scenario's and --set), passed again on replay.
	Settings map[string]string
}

// config is the part of run.json's config that repro needs (written by
// the scenarios runner).
type config struct {
	Nodes          int              `json:"nodes"`
	Flavor         string           `json:"flavor"`
	Image          string           `json:"image"`
	PG             int              `json:"pg"`
	Recovery       string           `json:"recovery"`
	Load           string           `json:"load"`
	ClientsPerNode int              `json:"clients_per_node"`
	Plan           []scenarios.Step `json:"plan"`
}

// Load reads what the run in dir ran. A directory whose run.json lacks a
// field repro needs is refused, naming the field.
func Load(dir string) (*Recorded, error) {
	run, err := record.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("repro %s: %w", dir, err)
	}
	var cfg config
	if run.Config != nil {
		raw, err := json.Marshal(run.Config)
		if err != nil {
			return nil, fmt.Errorf("repro %s: %s config: %w", dir, record.RunFile, err)
		}
		if err := record.DecodeArtifact(record.RunFile+" config", raw, &cfg); err != nil {
			return nil, fmt.Errorf("repro %s: %w", dir, err)
		}
	}
	r := &Recorded{Dir: dir, Scenario: run.Scenario, Seed: run.Seed, Nodes: cfg.Nodes, Flavor: cfg.Flavor,
		Image: cfg.Image, ImageID: run.ImageID, Recovery: cfg.Recovery, ClientsPerNode: cfg.ClientsPerNode,
		Steps: cfg.Plan, Version: run.Versions.Spockchaos, Verdict: run.EffectiveVerdict(), Failed: failedCheckers(run.Checkers),
		Replay: record.ReplayCommand(run), Settings: run.Settings}
	if r.Flavor == "" {
		r.Flavor = run.Flavor
	}
	r.PG = replayMajor(cfg.PG, cfg.Image, run.Versions.PGMajor)
	switch {
	case r.Scenario == "":
		return nil, fmt.Errorf("repro %s: run.json names no scenario", dir)
	case r.Seed == 0:
		return nil, fmt.Errorf("repro %s: run.json has no seed", dir)
	case r.Nodes == 0 || cfg.Load == "" || r.Flavor == "" || r.Recovery == "":
		return nil, fmt.Errorf("repro %s: run.json's config lacks nodes, load, flavor or recovery (made by an older spockchaos?)", dir)
	}
	if r.Duration, err = time.ParseDuration(cfg.Load); err != nil || r.Duration <= 0 {
		if err == nil {
			err = fmt.Errorf("not positive")
		}
		return nil, fmt.Errorf("repro %s: %s config load %q: %w", dir, record.RunFile, cfg.Load, err)
	}
	if err := checkSteps(r.Steps, r.Nodes); err != nil {
		return nil, fmt.Errorf("repro %s: %s config plan: %w", dir, record.RunFile, err)
	}
	return r, nil
}

// checkSteps refuses a stored plan the runner could only fail on once the
// cluster is up: a step without a kind, a node outside n1..nN, a negative
// time. Kinds are not listed here (the runner knows them, and the catalog
// grows): an unknown one is refused by the run, after up.
func checkSteps(steps []scenarios.Step, nodes int) error {
	node := func(name string) bool {
		for i := 1; i <= nodes; i++ {
			if name == fmt.Sprintf("n%d", i) {
				return true
			}
		}
		return false
	}
	for i, st := range steps {
		if st.Kind == "" {
			return fmt.Errorf("step %d: no kind", i)
		}
		if !node(st.Node) {
			return fmt.Errorf("step %d: node %q is not one of n1..n%d", i, st.Node, nodes)
		}
		if st.Peer != "" && !node(st.Peer) {
			return fmt.Errorf("step %d: peer %q is not one of n1..n%d", i, st.Peer, nodes)
		}
		if st.At < 0 || st.Hold < 0 {
			return fmt.Errorf("step %d: negative time (at %s, hold %s)", i, st.At, st.Hold)
		}
	}
	return nil
}

func failedCheckers(cs []verify.CheckResult) []string {
	var out []string
	for _, c := range cs {
		if c.Problem() {
			out = append(out, c.Name)
		}
	}
	slices.Sort(out)
	return out
}

// Options are the recorded run's options for scenarios.Run.
func (r *Recorded) Options() scenarios.Options {
	return scenarios.Options{Seed: r.Seed, Nodes: r.Nodes, Flavor: r.Flavor, Image: r.Image, PG: r.PG, Recovery: r.Recovery, Duration: r.Duration,
		Settings: r.Settings}
}

// replayMajor is the --pg a replay passes: the one asked, or, for a run on
// the default image (none named) whose nodes ran another major than
// today's default, the one they ran, so that a stored run replays on its
// major after the default moves.
func replayMajor(asked int, image string, ran int) int {
	switch {
	case asked != 0:
		return asked
	case image == "" && ran != 0 && ran != docker.DefaultMajor:
		return ran
	}
	return 0
}

// Spec is the scenario to run: the registered one when its plan for the
// seed is the stored one, else a copy that replays the stored steps and
// clients per node (storedPlan says which).
func (r *Recorded) Spec() (spec *scenarios.Spec, storedPlan bool, err error) {
	spec, err = scenarios.Lookup(r.Scenario)
	if err != nil {
		return nil, false, fmt.Errorf("repro %s: %w", r.Dir, err)
	}
	today := scenarios.NewPlan(spec, r.Seed, r.Nodes, r.Duration)
	clients := r.ClientsPerNode
	if clients == 0 {
		clients = spec.ClientsPerNode
	}
	if SameSteps(today.Steps, r.Steps) && clients == spec.ClientsPerNode {
		return spec, false, nil
	}
	return scenarios.WithPlan(spec, r.Steps, clients), true, nil
}

// SameSteps reports whether two plans have the same steps (nil and empty
// are the same: no faults).
func SameSteps(a, b []scenarios.Step) bool { return scenarios.SameSteps(a, b) }
