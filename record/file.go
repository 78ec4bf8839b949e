package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/spockchaos/spockchaos/pgversion"
)

// File names inside a run directory that the record owns (the rendered
// files are the reports package's).
const (
	RunFile         = "run.json"
	ObservationFile = "observation.json"
)

// Write stores run in dir: node artifacts, history.jsonl (copied from
// historyPath unless it is already dir/history.jsonl; "" for none),
// observation.json and run.json. It fills in the versions the runner left
// empty and lists each node's files. It writes as much as it can and
// returns the first error.
func Write(dir string, run *Run, historyPath string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write run directory %s: %w", dir, err)
	}
	fillVersions(run)
	var errs []error
	if historyPath != "" {
		errs = append(errs, copyHistory(historyPath, filepath.Join(dir, HistoryFile)))
	}
	for _, n := range run.Nodes {
		errs = append(errs, writeNodeArtifacts(dir, n))
	}
	ListNodeFiles(dir, run)
	if run.Observation != nil {
		errs = append(errs, WriteJSON(filepath.Join(dir, ObservationFile), run.Observation))
	}
	errs = append(errs, WriteJSON(filepath.Join(dir, RunFile), run))
	return errors.Join(errs...)
}

// Load reads dir/run.json (ReadArtifact: every problem is one line
// naming the file) and checks the little every reader needs: a scenario
// name, and verdicts that are known (a hand-edited "PASS" is refused).
func Load(dir string) (*Run, error) {
	return Decode(filepath.Join(dir, RunFile), nil)
}

// Decode decodes run.json's content (read from path when data is nil).
// The free-form parts (config, each checker's details) are kept as the
// JSON text they were stored as, so that a run read back is written again
// byte for byte (a generic value would reorder their keys).
func Decode(path string, data []byte) (*Run, error) {
	if data == nil {
		var err error
		if data, err = readBounded(path, MaxArtifactBytes); err != nil {
			return nil, err
		}
	}
	var run Run
	if err := DecodeArtifact(path, data, &run); err != nil {
		return nil, err
	}
	if run.Scenario == "" {
		return nil, fmt.Errorf("%s: names no scenario (not a run.json of spockchaos?)", path)
	}
	if err := checkVerdicts(&run); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	keepRawJSON(&run, data)
	return &run, nil
}

// keepRawJSON replaces run's config and checker details, decoded as
// generic values, by their JSON text in data (already decoded once, so
// valid).
func keepRawJSON(run *Run, data []byte) {
	var raw struct {
		Config   json.RawMessage `json:"config"`
		Checkers []struct {
			Details json.RawMessage `json:"details"`
		} `json:"checkers"`
	}
	if json.Unmarshal(data, &raw) != nil {
		return
	}
	if len(raw.Config) > 0 && run.Config != nil {
		run.Config = raw.Config
	}
	for i := range min(len(raw.Checkers), len(run.Checkers)) {
		if d := raw.Checkers[i].Details; len(d) > 0 {
			run.Checkers[i].Details = d
		}
	}
}

// checkVerdicts refuses verdicts other than pass, fail, unknown (a
// hand-edited "PASS" must not be read as something else).
func checkVerdicts(run *Run) error {
	if !knownVerdict(run.Verdict, false) {
		return fmt.Errorf("verdict %q is not pass, fail or unknown", run.Verdict)
	}
	for i, c := range run.Checkers {
		if c.Name == "" {
			return fmt.Errorf("checker %d has no name", i)
		}
		if !knownVerdict(c.Verdict, true) {
			return fmt.Errorf("checker %s: verdict %q is not pass, fail, unknown or skipped", c.Name, c.Verdict)
		}
	}
	return nil
}

// knownVerdict: a run's verdict is pass, fail or unknown (or empty: the
// checkers' combination); a checker's may also be skipped.
func knownVerdict(v Verdict, checker bool) bool {
	switch v {
	case Pass, Fail, Unknown:
		return true
	case Skipped:
		return checker
	case "":
		return !checker
	}
	return false
}

func writeNodeArtifacts(dir string, n Node) error {
	var errs []error
	if n.ServerLog != nil {
		errs = append(errs, WriteServerLog(dir, n.Name, n.ServerLog))
	}
	if n.BeforeFault != nil {
		errs = append(errs, WriteNodeState(dir, n.Name, BeforeFault, *n.BeforeFault))
	}
	if n.AfterRecovery != nil {
		errs = append(errs, WriteNodeState(dir, n.Name, AfterRecovery, *n.AfterRecovery))
	}
	return errors.Join(errs...)
}

// ListNodeFiles sets each node's Files from what is under nodes/<name>/,
// adding nodes found on disk that run does not list.
func ListNodeFiles(dir string, run *Run) {
	entries, _ := os.ReadDir(filepath.Join(dir, "nodes"))
	index := map[string]int{}
	for i, n := range run.Nodes {
		index[n.Name] = i
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		files, _ := os.ReadDir(NodeDir(dir, e.Name()))
		var rel []string
		for _, f := range files {
			rel = append(rel, filepath.ToSlash(filepath.Join("nodes", e.Name(), f.Name())))
		}
		sort.Strings(rel)
		i, ok := index[e.Name()]
		if !ok {
			run.Nodes = append(run.Nodes, Node{Name: e.Name()})
			i = len(run.Nodes) - 1
		}
		run.Nodes[i].Files = rel
	}
}

// copyHistory copies src to dst unless they are the same file.
func copyHistory(src, dst string) error {
	if sameFile(src, dst) {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy history: %w", err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("copy history: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy history %s to %s: %w", src, dst, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("copy history to %s: %w", dst, err)
	}
	return nil
}

func sameFile(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// fillVersions sets the Go and spockchaos versions, and each node's
// PostgreSQL version from its captured state, when the runner left them
// empty.
func fillVersions(run *Run) {
	v := &run.Versions
	for i, n := range run.Nodes {
		for _, st := range []*NodeState{n.BeforeFault, n.AfterRecovery} {
			if st != nil && st.ServerVersion != "" && n.ServerVersion == "" {
				run.Nodes[i].ServerVersion = st.ServerVersion
			}
		}
		if sv := run.Nodes[i].ServerVersion; sv != "" && v.PostgreSQL[n.Name] == "" {
			if v.PostgreSQL == nil {
				v.PostgreSQL = map[string]string{}
			}
			v.PostgreSQL[n.Name] = sv
		}
		if num, err := pgversion.Num(run.Nodes[i].ServerVersion); err == nil && v.PGMajor == 0 {
			v.PGMajor = pgversion.Major(num)
		}
	}
	if v.Go == "" {
		v.Go = runtime.Version()
	}
	if v.Spockchaos == "" {
		v.Spockchaos = SpockchaosVersion()
	}
}

// SpockchaosVersion is the main module's version, or its VCS revision,
// or "devel".
func SpockchaosVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			return "devel-" + strings.TrimSpace(s.Value)[:min(12, len(s.Value))]
		}
	}
	return "devel"
}

// WriteJSON writes v as indented JSON to path (how every JSON file of a
// run directory is written).
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
