package reports

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/spockchaos/spockchaos/verify"
)

// File names inside a run directory.
const (
	RunFile         = "run.json"
	ObservationFile = "observation.json"
	ResultsFile     = "results.json"
	JUnitFile       = "junit.xml"
	SummaryFile     = "summary.md"
	HTMLFile        = "report.html"
)

// Write stores run in dir: node artifacts, history.jsonl (copied from
// historyPath unless it is already dir/history.jsonl; "" for none),
// observation.json, run.json, then every rendered file (Render), and
// finally points <parent>/latest at dir. It writes as much as it can and
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
	listNodeFiles(dir, run)
	if run.Observation != nil {
		errs = append(errs, writeJSON(filepath.Join(dir, ObservationFile), run.Observation))
	}
	errs = append(errs, writeJSON(filepath.Join(dir, RunFile), run))
	errs = append(errs, Render(dir, run))
	errs = append(errs, LinkLatest(dir))
	return errors.Join(errs...)
}

// Render (re)writes results.json, junit.xml, summary.md and report.html
// in dir from run and dir/history.jsonl.
func Render(dir string, run *Run) error {
	ops, histErr := LoadHistory(filepath.Join(dir, HistoryFile))
	var errs []error
	errs = append(errs, histErr, writeJSON(filepath.Join(dir, ResultsFile), ResultsOf(run)))
	if junit, err := MarshalJUnit(run); err != nil {
		errs = append(errs, err)
	} else {
		errs = append(errs, writeFile(dir, JUnitFile, junit))
	}
	errs = append(errs, writeFile(dir, SummaryFile, []byte(SummaryOf(run))))
	if page, err := RenderHTML(run, ops); err != nil {
		errs = append(errs, err)
	} else {
		errs = append(errs, writeFile(dir, HTMLFile, page))
	}
	return errors.Join(errs...)
}

// LoadRun reads dir/run.json (ReadArtifact: every problem is one line
// naming the file) and checks the little every reader needs: a scenario
// name, and verdicts that verify knows (a hand-edited "PASS" is refused).
func LoadRun(dir string) (*Run, error) {
	path := filepath.Join(dir, RunFile)
	run, err := DecodeRun(path, nil)
	if err != nil {
		return nil, err
	}
	return run, nil
}

// DecodeRun decodes run.json's content (read from path when data is nil).
func DecodeRun(path string, data []byte) (*Run, error) {
	var run Run
	var err error
	if data == nil {
		err = ReadArtifact(path, &run)
	} else {
		err = DecodeArtifact(path, data, &run)
	}
	if err != nil {
		return nil, err
	}
	if run.Scenario == "" {
		return nil, fmt.Errorf("%s: names no scenario (not a run.json of spockchaos?)", path)
	}
	if err := checkVerdicts(&run); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &run, nil
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
func knownVerdict(v verify.Verdict, checker bool) bool {
	switch v {
	case verify.Pass, verify.Fail, verify.Unknown:
		return true
	case verify.Skipped:
		return checker
	case "":
		return !checker
	}
	return false
}

// Rerender rebuilds every rendered file of the run directory dir from its
// run.json and history.jsonl (`spockchaos report DIR`).
func Rerender(dir string) (*Run, error) {
	run, err := LoadRun(dir)
	if err != nil {
		return nil, err
	}
	listNodeFiles(dir, run)
	return run, Render(dir, run)
}

func writeFile(dir, name string, data []byte) error {
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
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

// listNodeFiles sets each node's Files from what is under nodes/<name>/,
// adding nodes found on disk that run does not list.
func listNodeFiles(dir string, run *Run) {
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
