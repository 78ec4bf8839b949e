package scenarios

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/verify"
)

// Labels a scenario may carry.
const (
	LabelGate    = "gate"    // the CI gate: short, must stay under 15 minutes in all
	LabelNightly = "nightly" // longer runs
	LabelRelease = "release" // release qualification
)

// Spec declares one scenario.
type Spec struct {
	// Name is unique, lower-case, dash-separated; `spockchaos run NAME`.
	Name string
	// Description says what the scenario proves, in one sentence.
	Description string
	// Labels select the scenario into suites: gate, nightly, release.
	Labels []string
	// Nodes is the default node count (--nodes overrides; MinNodes bounds it).
	Nodes int
	// MinNodes is the least number of nodes the fault plan needs.
	MinNodes int
	// Flavors lists the flavors the scenario can run on; empty means all.
	Flavors []string
	// Timeout bounds the whole run, all phases included.
	Timeout time.Duration
	// Workload is the workload's name (ledger, bank, hotkey, ycsb).
	Workload string
	// ClientsPerNode is the workload's concurrency on each node.
	ClientsPerNode int
	// Load is how long the workload runs (--duration overrides).
	Load time.Duration
	// Faults builds the fault plan from the run's random source and the
	// node names; nil means no faults. It must draw every choice from r.
	Faults func(r Rand, nodes []string, load time.Duration) []Step
	// Recovery is the default recovery strategy: auto, reference, spock, none.
	Recovery string
	// Checkers are the checkers that decide the verdict.
	Checkers []string
	// Expect is the verdict a correct harness reaches (Pass, or Fail for
	// the control that must catch divergence).
	Expect verify.Verdict
	// ExpectOn is the verdict on a flavor where it differs from Expect
	// (ExpectFor); the scenario's comment says what was measured there.
	ExpectOn map[string]verify.Verdict
	// KnownFindings are defects of a flavor, proven there, that the
	// scenario can hit (see Finding): on that flavor a FAIL the finding
	// explains is the scenario working.
	KnownFindings []Finding
	// WorkerErrorsFail makes replication-health fail a subscription whose
	// apply worker an error ended outside every fault window, even when a
	// new worker replicates at the end (verify.ReplicationHealthInput): for
	// a scenario whose workload is known to stop apply workers, so that
	// its checker says so rather than the restart hiding it.
	WorkerErrorsFail bool
	// Settings are server settings (NAME -> VALUE) the scenario needs on
	// every node (a user --set of the same name overrides one); checked at
	// registration against every flavor the scenario runs on.
	Settings map[string]string
}

// Rand is the part of math/rand/v2's *Rand a fault plan may use.
type Rand interface {
	IntN(n int) int
	Int64N(n int64) int64
}

// Checker names.
const (
	CheckConvergence = "convergence"
	CheckHistory     = "history"   // durability, atomicity, indeterminate, invariants
	CheckRecovered   = "recovered" // the recovery moved more than 0 transactions
)

var registry = map[string]*Spec{}

// Register adds a spec to the catalog; it panics on an invalid spec so
// that a broken catalog cannot ship.
func Register(s *Spec) {
	if err := s.validate(); err != nil {
		panic(fmt.Sprintf("scenario %q: %v", s.Name, err))
	}
	if _, dup := registry[s.Name]; dup {
		panic(fmt.Sprintf("scenario %q registered twice", s.Name))
	}
	registry[s.Name] = s
}

var nameRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

func (s *Spec) validate() error {
	switch {
	case !nameRE.MatchString(s.Name):
		return fmt.Errorf("name must be lower-case words joined by dashes")
	case s.Description == "":
		return fmt.Errorf("no description")
	case len(s.Labels) == 0:
		return fmt.Errorf("no labels (gate, nightly or release)")
	case s.Nodes < 2 || s.Nodes > 9 || s.MinNodes > s.Nodes:
		return fmt.Errorf("nodes %d / min %d out of range", s.Nodes, s.MinNodes)
	case s.Timeout <= 0 || s.Load <= 0:
		return fmt.Errorf("timeout and load must be positive")
	case s.Workload == "":
		return fmt.Errorf("no workload")
	case len(s.Checkers) == 0:
		return fmt.Errorf("no checkers")
	case s.Expect != verify.Pass && s.Expect != verify.Fail:
		return fmt.Errorf("expect must be pass or fail")
	}
	for f, v := range s.ExpectOn {
		if v != verify.Pass && v != verify.Fail {
			return fmt.Errorf("expect on %s must be pass or fail", f)
		}
	}
	for _, l := range s.Labels {
		if l != LabelGate && l != LabelNightly && l != LabelRelease {
			return fmt.Errorf("unknown label %q", l)
		}
	}
	switch s.Recovery {
	case "auto", "reference", "spock", "none":
	default:
		return fmt.Errorf("unknown recovery %q", s.Recovery)
	}
	for _, c := range s.Checkers {
		if !knownChecker(c) {
			return fmt.Errorf("unknown checker %q", c)
		}
	}
	if err := s.validateSettings(); err != nil {
		return err
	}
	return s.checkPlans()
}

// validateSettings checks each setting's name and value as --set does,
// and that every flavor the scenario runs on knows it and that it does
// not disagree with the harness's own settings.
func (s *Spec) validateSettings() error {
	for _, name := range harness.SortedNames(s.Settings) {
		if n, _, err := harness.ParseSetting(name + "=" + s.Settings[name]); err != nil {
			return err
		} else if n != name {
			return fmt.Errorf("setting %s: write the name in lower case", name)
		}
	}
	flavors := s.Flavors
	if len(flavors) == 0 {
		flavors = harness.FlavorNames()
	}
	for _, name := range flavors {
		f, err := harness.LookupFlavor(name)
		if err != nil {
			return err
		}
		if err := harness.CheckSettings(f, s.Nodes, s.Settings); err != nil {
			return err
		}
	}
	return nil
}

// HasLabel reports whether the spec carries label l.
func (s *Spec) HasLabel(l string) bool { return slices.Contains(s.Labels, l) }

// All returns every registered spec, sorted by name.
func All() []*Spec {
	out := make([]*Spec, 0, len(registry))
	for _, s := range registry {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the spec called name.
func Lookup(name string) (*Spec, error) {
	if s, ok := registry[name]; ok {
		return s, nil
	}
	names := make([]string, 0, len(registry))
	for _, s := range All() {
		names = append(names, s.Name)
	}
	if near := Nearest(name, names); near != "" {
		return nil, fmt.Errorf("unknown scenario %q: did you mean %s? (spockchaos list shows the catalog)", name, near)
	}
	return nil, fmt.Errorf("unknown scenario %q (spockchaos list shows the catalog)", name)
}

// Select returns the specs whose name equals pattern, or matches it as a
// regular expression when it is not a plain name, and that carry label
// (if label is not empty). Nothing matching is an error.
func Select(pattern, label string) ([]*Spec, error) {
	var re *regexp.Regexp
	if pattern != "" {
		if _, ok := registry[pattern]; !ok {
			var err error
			if re, err = regexp.Compile(pattern); err != nil {
				return nil, fmt.Errorf("scenario pattern %q: %w", pattern, err)
			}
		}
	}
	var out []*Spec
	for _, s := range All() {
		if pattern != "" && s.Name != pattern && (re == nil || !re.MatchString(s.Name)) {
			continue
		}
		if label != "" && !s.HasLabel(label) {
			continue
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		var what []string
		if pattern != "" {
			what = append(what, fmt.Sprintf("name %q", pattern))
		}
		if label != "" {
			what = append(what, fmt.Sprintf("label %q", label))
		}
		return nil, fmt.Errorf("no scenario matches %s (spockchaos list shows the catalog)", strings.Join(what, " and "))
	}
	return out, nil
}

// HasCheck reports whether the spec runs checker name.
func (s *Spec) HasCheck(name string) bool { return slices.Contains(s.Checkers, name) }

// ExpectFor is the verdict the scenario expects on flavor ("" is
// pglogical, the default flavor): ExpectOn's, else Expect.
// flavorOr is flavor, or the default flavor (pglogical) for "".
func flavorOr(flavor string) string { return cmp.Or(flavor, "pglogical") }

func (s *Spec) ExpectFor(flavor string) verify.Verdict {
	if v, ok := s.ExpectOn[flavorOr(flavor)]; ok {
		return v
	}
	return s.Expect
}
