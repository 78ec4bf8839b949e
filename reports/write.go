package reports

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spockchaos/spockchaos/record"
)

// Rendered file names inside a run directory (run.json, observation.json
// and history.jsonl are the record's).
const (
	ResultsFile = "results.json"
	JUnitFile   = "junit.xml"
	SummaryFile = "summary.md"
	HTMLFile    = "report.html"
)

// Write stores run in dir (record.Write: node artifacts, history.jsonl,
// observation.json, run.json), then every rendered file (Render), and
// finally points <parent>/latest at dir. It writes as much as it can and
// returns the first error.
func Write(dir string, run *record.Run, historyPath string) error {
	err := record.Write(dir, run, historyPath)
	if _, statErr := os.Stat(dir); statErr != nil {
		return err // no directory to render into
	}
	return errors.Join(err, Render(dir, run), record.LinkLatest(dir))
}

// Render (re)writes results.json, junit.xml, summary.md and report.html
// in dir from run and dir/history.jsonl.
func Render(dir string, run *record.Run) error {
	ops, histErr := record.LoadHistory(filepath.Join(dir, record.HistoryFile))
	var errs []error
	errs = append(errs, histErr, record.WriteJSON(filepath.Join(dir, ResultsFile), ResultsOf(run)))
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

// Rerender rebuilds every rendered file of the run directory dir from its
// run.json and history.jsonl (`spockchaos report DIR`).
func Rerender(dir string) (*record.Run, error) {
	run, err := record.Load(dir)
	if err != nil {
		return nil, err
	}
	record.ListNodeFiles(dir, run)
	return run, Render(dir, run)
}

func writeFile(dir, name string, data []byte) error {
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
