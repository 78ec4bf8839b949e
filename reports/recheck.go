package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/verify"
	"github.com/spockchaos/spockchaos/workload/history"
)

// HistoryChecker runs the history checkers on a stored history and the
// stored observation (observation.json, raw) with no cluster. The CLI
// passes scenarios.RecheckStored (the checker registry's checkers that
// need no cluster); tests may pass a fake.
type HistoryChecker func(ops []history.Op, observation json.RawMessage, survivors, failed []string) ([]verify.CheckResult, error)

// Recheck is the outcome of re-running the history checkers of a run.
type Recheck struct {
	Dir string `json:"dir"`
	// StoredVerdict is the verdict the run recorded (all its checkers).
	StoredVerdict verify.Verdict `json:"stored_verdict"`
	// Verdict is the combination of the re-run checkers.
	Verdict verify.Verdict `json:"verdict"`
	// StoredHistoryVerdict combines the stored results of the checkers
	// that were re-run (same names), so like is compared with like.
	StoredHistoryVerdict verify.Verdict     `json:"stored_history_verdict"`
	Changed              bool               `json:"changed"`
	Checkers             []RecheckedChecker `json:"checkers"`
}

// RecheckedChecker is one checker's stored and new result.
type RecheckedChecker struct {
	Name   string             `json:"name"`
	Stored verify.Verdict     `json:"stored,omitempty"` // "" if the run did not store it
	Result verify.CheckResult `json:"result"`
	// Changed is whether a stored verdict differs from the new one.
	Changed bool `json:"changed"`
}

// RecheckDir re-runs the history checkers on dir's history.jsonl and
// observation.json, with the survivors and failed nodes of run.json, and
// compares with the stored results. A missing observation is an error:
// without it the checkers can only say unknown.
func RecheckDir(dir string, check HistoryChecker) (*Recheck, error) {
	run, err := record.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("recheck %s: %w", dir, err)
	}
	histPath := filepath.Join(dir, record.HistoryFile)
	if _, err := os.Stat(histPath); err != nil {
		return nil, fmt.Errorf("recheck %s: %s: %w", dir, record.HistoryFile, errors.Unwrap(err))
	}
	ops, err := record.LoadHistory(histPath)
	if err != nil {
		return nil, fmt.Errorf("recheck %s: %w", dir, err)
	}
	obsPath := filepath.Join(dir, record.ObservationFile)
	if _, err := os.Lstat(obsPath); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("recheck %s: no %s: the run stored no final state, so the history checkers cannot be re-run", dir, record.ObservationFile)
	}
	var obs json.RawMessage
	if err := record.ReadArtifact(obsPath, &obs); err != nil {
		return nil, fmt.Errorf("recheck %s: %w", dir, err)
	}
	results, err := check(ops, obs, run.Survivors, run.Failed)
	if err != nil {
		return nil, fmt.Errorf("recheck %s: history checkers: %w", dir, err)
	}
	stored := map[string]verify.CheckResult{}
	for _, c := range run.Checkers {
		stored[c.Name] = c
	}
	rc := &Recheck{Dir: dir, StoredVerdict: run.EffectiveVerdict(), Verdict: verify.Combine(results)}
	var storedSame []verify.CheckResult
	for _, r := range results {
		c := RecheckedChecker{Name: r.Name, Result: r}
		if s, ok := stored[r.Name]; ok {
			c.Stored = s.Verdict
			storedSame = append(storedSame, s)
		}
		c.Changed = c.Stored != "" && c.Stored != r.Verdict
		rc.Changed = rc.Changed || c.Changed
		rc.Checkers = append(rc.Checkers, c)
	}
	rc.StoredHistoryVerdict = verify.Combine(storedSame)
	if len(storedSame) == 0 {
		// The run stored none of these checkers (e.g. it died before T6):
		// compare with the run's verdict.
		rc.StoredHistoryVerdict = ""
		rc.Changed = rc.Verdict != rc.StoredVerdict
	}
	return rc, nil
}
