package campaign

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/scenarios"
)

// DefaultFlavor is the flavor of a campaign that names none.
const DefaultFlavor = "pglogical"

// Target is one system under test: a flavor and, optionally, the node
// image (empty: the flavor's default image).
type Target struct {
	Flavor string `json:"flavor"`
	Image  string `json:"image,omitempty"`
	// Setting is the swept setting's NAME=VALUE of a cell (Matrix.Sweep);
	// empty without a sweep, and never set in Matrix.Targets.
	Setting string `json:"setting,omitempty"`
}

// Name is how reports show the target: the flavor, or flavor@image,
// followed by the swept setting when there is one.
func (t Target) Name() string {
	n := t.Flavor
	if t.Image != "" {
		n += "@" + t.Image
	}
	if t.Setting != "" {
		n += " " + t.Setting
	}
	return n
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// slug is the target as a file-name part.
func (t Target) slug() string { return unsafeChars.ReplaceAllString(t.Name(), "_") }

// Cell is one run of a campaign: a scenario, a seed, a target and a
// repetition (1..Repeat).
type Cell struct {
	Scenario string `json:"scenario"`
	Seed     int64  `json:"seed"`
	Target   Target `json:"target"`
	Repeat   int    `json:"repeat"`
}

// ID names the cell uniquely within its campaign and is its folder name
// under cells/: <scenario>-s<seed>-<target>-r<repeat>.
func (c Cell) ID() string {
	return fmt.Sprintf("%s-s%d-%s-r%d", c.Scenario, c.Seed, c.Target.slug(), c.Repeat)
}

func (c Cell) String() string {
	return fmt.Sprintf("%s seed %d on %s (repeat %d)", c.Scenario, c.Seed, c.Target.Name(), c.Repeat)
}

// Matrix is what a campaign runs: every scenario x seed x target x repeat,
// with the run options every cell shares. Two machines given the same
// Matrix compute the same cells in the same order, which is what makes
// sharding and merging work without a coordinator.
type Matrix struct {
	Scenarios []string `json:"scenarios"`
	Seeds     []int64  `json:"seeds"`
	Targets   []Target `json:"targets"`
	Repeat    int      `json:"repeat"`
	// Nodes, Recovery and Duration override every scenario's default
	// when set (as `spockchaos run` flags do).
	Nodes    int           `json:"nodes,omitempty"`
	Recovery string        `json:"recovery,omitempty"`
	Duration time.Duration `json:"duration,omitempty"`
	// PG is the PostgreSQL major of every cell (scenarios.Options.PG).
	PG int `json:"pg,omitempty"`
	// Settings are server settings of every cell (--set).
	Settings map[string]string `json:"settings,omitempty"`
	// Sweep makes one cell per value of a setting for every scenario x
	// target x seed x repeat (--sweep NAME=V1,V2,...): an axis of the
	// matrix, seen in each cell's target (Target.Setting).
	Sweep *Sweep `json:"sweep,omitempty"`
}

// Sweep is a server setting and the values a campaign runs it at.
type Sweep struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// ParseSweep parses NAME=V1,V2,... (at least one value, each a valid
// setting value as --set takes it; duplicates dropped).
func ParseSweep(s string) (*Sweep, error) {
	name, list, ok := strings.Cut(s, "=")
	if !ok {
		return nil, fmt.Errorf("--sweep %q: want NAME=VALUE,VALUE,...", s)
	}
	sw := &Sweep{}
	for _, v := range strings.Split(list, ",") {
		n, val, err := harness.ParseSetting(name + "=" + strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("--sweep: %w", err)
		}
		sw.Name = n
		sw.Values = append(sw.Values, val)
	}
	sw.Values = uniq(sw.Values)
	return sw, nil
}

// CellTargets are the targets of the cells: each of m.Targets, once per
// swept value when there is a sweep.
func (m Matrix) CellTargets() []Target {
	if m.Sweep == nil {
		return m.Targets
	}
	var out []Target
	for _, t := range m.Targets {
		for _, v := range m.Sweep.Values {
			t.Setting = m.Sweep.Name + "=" + v
			out = append(out, t)
		}
	}
	return out
}

// Normalize sorts and de-duplicates scenarios, keeps seeds and targets in
// the order given (without duplicates), and fills the defaults (one
// pglogical target, one repeat).
func (m Matrix) Normalize() Matrix {
	m.Scenarios = slices.Clone(m.Scenarios)
	slices.Sort(m.Scenarios)
	m.Scenarios = slices.Compact(m.Scenarios)
	m.Seeds = uniq(m.Seeds)
	m.Targets = uniq(m.Targets)
	for i := range m.Targets {
		if m.Targets[i].Flavor == "" {
			m.Targets[i].Flavor = DefaultFlavor
		}
	}
	if len(m.Targets) == 0 {
		m.Targets = []Target{{Flavor: DefaultFlavor}}
	}
	if len(m.Settings) == 0 {
		m.Settings = nil
	}
	if m.Sweep != nil {
		sw := *m.Sweep
		sw.Values = uniq(sw.Values)
		m.Sweep = &sw
	}
	if m.Repeat < 1 {
		m.Repeat = 1
	}
	return m
}

func uniq[T comparable](in []T) []T {
	var out []T
	seen := map[T]bool{}
	for _, x := range in {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// Validate checks that every scenario exists and that every cell's
// options are ones `spockchaos run` accepts, so that a campaign fails on
// bad input before its first cell rather than in its hundredth.
func (m Matrix) Validate() error {
	if len(m.Scenarios) == 0 {
		return fmt.Errorf("the campaign has no scenario (name some, or give --label)")
	}
	if len(m.Seeds) == 0 {
		return fmt.Errorf("the campaign has no seed (--seeds N or --seed-list)")
	}
	for _, s := range m.Seeds {
		if s == 0 {
			return fmt.Errorf("seed 0 is not a seed (it means pick one)")
		}
	}
	if m.Sweep != nil {
		if len(m.Sweep.Values) == 0 {
			return fmt.Errorf("--sweep %s has no value", m.Sweep.Name)
		}
		if _, both := m.Settings[m.Sweep.Name]; both {
			return fmt.Errorf("setting %s is both swept (--sweep) and set (--set): give one", m.Sweep.Name)
		}
	}
	for _, name := range m.Scenarios {
		spec, err := scenarios.Lookup(name)
		if err != nil {
			return err
		}
		for _, t := range m.CellTargets() {
			if !runsOn(spec, t) {
				continue
			}
			if err := scenarios.Validate(spec, m.RunOptions(Cell{Scenario: name, Seed: m.Seeds[0], Target: t, Repeat: 1})); err != nil {
				return fmt.Errorf("cell %s on %s: %w", name, t.Name(), err)
			}
		}
	}
	if len(m.Cells()) == 0 {
		return fmt.Errorf("no scenario of the campaign runs on its targets")
	}
	return nil
}

// runsOn reports whether spec can run on target's flavor.
func runsOn(spec *scenarios.Spec, t Target) bool {
	return len(spec.Flavors) == 0 || slices.Contains(spec.Flavors, t.Flavor)
}

// Cells lists every cell in the canonical order: scenario, target, seed,
// repeat. A scenario that does not run on a target's flavor has no cell
// for that target.
func (m Matrix) Cells() []Cell {
	var out []Cell
	for _, name := range m.Scenarios {
		spec, err := scenarios.Lookup(name)
		if err != nil {
			continue // Validate reports it
		}
		for _, t := range m.CellTargets() {
			if !runsOn(spec, t) {
				continue
			}
			for _, seed := range m.Seeds {
				for r := 1; r <= m.Repeat; r++ {
					out = append(out, Cell{Scenario: name, Seed: seed, Target: t, Repeat: r})
				}
			}
		}
	}
	return out
}

// RunOptions are the scenario options of cell c (without output folder
// or progress writer, which the runner sets).
func (m Matrix) RunOptions(c Cell) scenarios.Options {
	return scenarios.Options{Seed: c.Seed, Nodes: m.Nodes, Flavor: c.Target.Flavor, Image: c.Target.Image,
		Recovery: m.Recovery, Duration: m.Duration, PG: m.PG, Settings: cellSettings(m.Settings, c.Target.Setting)}
}

// cellSettings are the campaign's settings with the cell's swept one
// (NAME=VALUE, or empty) added; nil for none.
func cellSettings(all map[string]string, swept string) map[string]string {
	if len(all) == 0 && swept == "" {
		return nil
	}
	out := maps.Clone(all)
	if out == nil {
		out = map[string]string{}
	}
	if name, value, ok := strings.Cut(swept, "="); ok {
		out[name] = value
	}
	return out
}

// Fingerprint identifies the matrix: shards and resumed runs of one
// campaign carry the same fingerprint, and merge and resume refuse to mix
// different ones.
func (m Matrix) Fingerprint() string {
	b, _ := json.Marshal(m.Normalize())
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// SeedsFrom derives n seeds from a campaign seed: the same campaign seed
// always gives the same seeds, on every machine. Seeds are in 1..2^31-1,
// like the seeds `spockchaos run` picks.
func SeedsFrom(campaignSeed int64, n int) []int64 {
	out := make([]int64, 0, n)
	seen := map[int64]bool{}
	x := uint64(campaignSeed)
	for len(out) < n {
		x += 0x9e3779b97f4a7c15 // splitmix64
		z := x
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		s := int64(z%(1<<31-1)) + 1
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// ParseSeedList parses "1,2,3" (spaces allowed) into seeds.
func ParseSeedList(list []string) ([]int64, error) {
	var out []int64
	for _, s := range list {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("--seed-list: %q is not a positive integer seed", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// Targets pairs repeatable --flavor and --image flags: the i-th image goes
// with the i-th flavor; one flavor (or none: pglogical) goes with every
// image; no image means each flavor's default image.
func Targets(flavors, images []string) ([]Target, error) {
	switch {
	case len(images) == 0:
		var out []Target
		for _, f := range flavors {
			out = append(out, Target{Flavor: f})
		}
		return out, nil
	case len(flavors) <= 1:
		f := DefaultFlavor
		if len(flavors) == 1 {
			f = flavors[0]
		}
		var out []Target
		for _, img := range images {
			out = append(out, Target{Flavor: f, Image: img})
		}
		return out, nil
	case len(flavors) == len(images):
		var out []Target
		for i := range flavors {
			out = append(out, Target{Flavor: flavors[i], Image: images[i]})
		}
		return out, nil
	}
	return nil, fmt.Errorf("%d --flavor and %d --image flags: give one flavor for every image, or one flavor for all", len(flavors), len(images))
}
