package campaign

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/spockchaos/spockchaos/record"
)

// Files of a campaign directory.
const (
	IndexFile   = "campaign.json"
	CellsDir    = "cells"
	CellFile    = "cell.json"
	ProgressLog = "progress.log"
	JUnitFile   = "junit.xml"
	SummaryFile = "summary.md"
	HTMLFile    = "campaign.html"
)

// FormatVersion is campaign.json's format.
const FormatVersion = 1

// Campaign is campaign.json: the matrix, and every cell the directory
// knows of (done ones, and the pending cells of its selection).
type Campaign struct {
	Format      int    `json:"format"`
	Fingerprint string `json:"fingerprint"`
	Matrix      Matrix `json:"matrix"`
	// Selection is the part of the matrix the directory is responsible
	// for: "all", or the shard "I/N" it last ran; a merge is "all".
	Selection string `json:"selection"`
	// Sources are the shard directories a merge combined.
	Sources    []string     `json:"sources,omitempty"`
	Spockchaos string       `json:"spockchaos"`
	Updated    time.Time    `json:"updated"`
	Totals     Totals       `json:"totals"`
	Cells      []CellResult `json:"cells"`
}

// Totals count the cells of a campaign.
type Totals struct {
	Cells   int `json:"cells"`
	Done    int `json:"done"`
	Pending int `json:"pending"`
	Met     int `json:"met_expected"`
	Pass    int `json:"pass"`
	Fail    int `json:"fail"`
	Unknown int `json:"unknown"`
	// Skipped counts cells refused at start: the image cannot run their
	// plan (capability). Neither met nor harness errors.
	Skipped int `json:"skipped,omitempty"`
	// Unmet counts done cells whose pass/fail verdict was not the
	// expected one and not explained (findings, exit 1); Unknown ones are
	// harness errors.
	Unmet int `json:"unmet"`
	// Explained counts FAILs every failing checker of which known
	// findings explain (OutcomeExplained): neither met nor unmet.
	Explained int `json:"explained,omitempty"`
}

// totalsOf counts cells.
func totalsOf(cells []CellResult) Totals {
	t := Totals{Cells: len(cells)}
	for _, c := range cells {
		if !c.Done() {
			t.Pending++
			continue
		}
		t.Done++
		switch c.Verdict {
		case "pass":
			t.Pass++
		case "fail":
			t.Fail++
		case "skipped":
			t.Skipped++
		default:
			t.Unknown++
		}
		switch c.Outcome() {
		case OutcomeAsExpected:
			t.Met++
		case OutcomeExplained:
			t.Explained++
		case OutcomeUnexpected:
			t.Unmet++
		}
	}
	return t
}

// CellDir is the folder of cell id under a campaign directory; the cell's
// run directories are made inside it.
func CellDir(dir, id string) string { return filepath.Join(dir, CellsDir, id) }

// LoadIndex reads dir/campaign.json.
func LoadIndex(dir string) (*Campaign, error) {
	b, err := os.ReadFile(filepath.Join(dir, IndexFile))
	if err != nil {
		return nil, fmt.Errorf("read campaign %s: %w", dir, err)
	}
	var c Campaign
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("read campaign %s: %s: %w", dir, IndexFile, err)
	}
	return &c, nil
}

// doneCells reads every cells/<id>/cell.json under dir: the cells that
// ran to their end, by id.
func doneCells(dir string) (map[string]CellResult, error) {
	out := map[string]CellResult{}
	entries, err := os.ReadDir(filepath.Join(dir, CellsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list cells of %s: %w", dir, err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, CellsDir, e.Name(), CellFile))
		if errors.Is(err, fs.ErrNotExist) {
			continue // started, never finished: interrupted
		}
		if err != nil {
			return nil, fmt.Errorf("read cell %s: %w", e.Name(), err)
		}
		var r CellResult
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("read cell %s: %w", e.Name(), err)
		}
		if r.Done() && r.ID == e.Name() {
			out[r.ID] = r
		}
	}
	return out, nil
}

// writeCell stores r as cells/<id>/cell.json, atomically: a cell is done
// exactly when this file exists.
func writeCell(dir string, r CellResult) error {
	return writeJSONAtomic(filepath.Join(CellDir(dir, r.ID), CellFile), r)
}

// writeJSONAtomic writes v as indented JSON to path through a temporary
// file and a rename, so a reader (or a resumed campaign after a crash)
// never sees half a file.
func writeJSONAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Index builds the campaign of dir: every cell of the matrix that is done
// in dir, and every cell of selection that is not (pending), in the
// matrix's canonical order. Done FAILs are judged again against this
// build's known findings (rejudged). Cells done in dir but outside the
// matrix are an error (a directory of another campaign).
func Index(dir string, m Matrix, selection Shard) (*Campaign, error) {
	m = m.Normalize()
	done, err := doneCells(dir)
	if err != nil {
		return nil, err
	}
	inSelection := map[string]bool{}
	for _, c := range m.ShardCells(selection) {
		inSelection[c.ID()] = true
	}
	known := map[string]bool{}
	camp := &Campaign{Format: FormatVersion, Fingerprint: m.Fingerprint(), Matrix: m, Selection: selection.String(),
		Spockchaos: record.SpockchaosVersion(), Updated: time.Now().UTC()}
	for _, c := range m.Cells() {
		known[c.ID()] = true
		if r, ok := done[c.ID()]; ok {
			camp.Cells = append(camp.Cells, rejudged(dir, r))
		} else if inSelection[c.ID()] {
			camp.Cells = append(camp.Cells, pendingResult(c))
		}
	}
	var strangers []string
	for id := range done {
		if !known[id] {
			strangers = append(strangers, id)
		}
	}
	if len(strangers) > 0 {
		sort.Strings(strangers)
		return nil, fmt.Errorf("%s holds cells of another campaign (%s...): use another --out", dir, strangers[0])
	}
	camp.Totals = totalsOf(camp.Cells)
	return camp, nil
}

// writeIndex stores c as dir/campaign.json.
func writeIndex(dir string, c *Campaign) error {
	c.Updated = time.Now().UTC()
	c.Totals = totalsOf(c.Cells)
	return writeJSONAtomic(filepath.Join(dir, IndexFile), c)
}

// checkSameCampaign refuses a directory that holds another campaign.
func checkSameCampaign(dir string, m Matrix) error {
	old, err := LoadIndex(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if old.Fingerprint != m.Fingerprint() {
		return fmt.Errorf("%s holds another campaign (fingerprint %s, this one %s): same flags to resume it, or another --out", dir, old.Fingerprint, m.Fingerprint())
	}
	return nil
}
