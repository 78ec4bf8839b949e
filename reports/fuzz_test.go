package reports_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/reports"
	"github.com/spockchaos/spockchaos/verify"
	"github.com/spockchaos/spockchaos/workload/history"
)

// The fuzz targets of the artifact loaders. Their seeds (f.Add below and
// testdata/fuzz/<target>/) run as ordinary tests in `make test`; run one
// for longer with e.g. `go test -run '^$' -fuzz '^FuzzDecodeRun$' -fuzztime 60s ./reports`.

// seed reads a file of testdata/seedrun (a small real run directory).
func seed(f *testing.F, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", "seedrun", name))
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// damaged are the kinds of bad bytes a copied or hand-edited file gets.
func damaged(good []byte) [][]byte {
	return [][]byte{
		good,
		{},
		good[:len(good)/2],                  // truncated
		append([]byte{0xff, 0xfe}, good...), // not UTF-8
		bytes.Replace(good, []byte(`"seed": 11`), []byte(`"seed": "eleven"`), 1), // wrong type
		bytes.Replace(good, []byte(`"verdict"`), []byte(`"verdict": 7, "x"`), 1),
		[]byte("null"), []byte("[]"), []byte(`"run"`), []byte("{}{}"),
		append(append([]byte{}, good...), []byte("garbage")...),
	}
}

// oneLineNaming fails unless err is one line naming name.
func oneLineNaming(t *testing.T, err error, name string) {
	t.Helper()
	msg := err.Error()
	if strings.ContainsAny(msg, "\n\r") {
		t.Fatalf("error is more than one line: %q", msg)
	}
	if !strings.Contains(msg, name) {
		t.Fatalf("error does not name %s: %q", name, msg)
	}
}

// FuzzDecodeRun: any bytes as run.json either load, and then render every
// report file in memory without a panic, or give one line naming run.json.
func FuzzDecodeRun(f *testing.F) {
	for _, b := range damaged(seed(f, record.RunFile)) {
		f.Add(b)
	}
	f.Add(seed(f, "synthetic-run.json"))
	f.Fuzz(func(t *testing.T, data []byte) {
		run, err := record.Decode("run.json", data)
		if err != nil {
			oneLineNaming(t, err, "run.json")
			return
		}
		_ = reports.ResultsOf(run)
		_ = reports.SummaryOf(run)
		if _, err := reports.MarshalJUnit(run); err != nil {
			t.Fatalf("junit of a loaded run.json: %v", err)
		}
		if _, err := reports.RenderHTML(run, nil); err != nil {
			t.Fatalf("report.html of a loaded run.json: %v", err)
		}
		if v := run.EffectiveVerdict(); v != verify.Pass && v != verify.Fail && v != verify.Unknown {
			t.Fatalf("verdict %q", v)
		}
	})
}

// FuzzRecheck: a run directory with any bytes as run.json, history.jsonl
// and observation.json is either re-checked by the real history checkers
// or refused with one line naming the file; never a panic.
func FuzzRecheck(f *testing.F) {
	run, hist, obs := seed(f, record.RunFile), seed(f, record.HistoryFile), seed(f, record.ObservationFile)
	for _, r := range damaged(run) {
		f.Add(r, hist, obs)
	}
	for _, h := range damaged(hist) {
		f.Add(run, h, obs)
	}
	for _, o := range damaged(obs) {
		f.Add(run, hist, o)
	}
	f.Add(run, hist, []byte(`{"nodes":["n2"],"per_node":{"n2":null}}`))
	f.Add(run, hist, []byte(`{"per_node":{"n9":{"ledger":{"t-1":-5}}}}`))
	f.Add(bytes.Replace(run, []byte(`"survivors": [`), []byte(`"survivors": ["", "n2", "n2",`), 1), hist, obs)
	f.Fuzz(func(t *testing.T, runJSON, histBytes, obsBytes []byte) {
		dir := t.TempDir()
		for name, b := range map[string][]byte{record.RunFile: runJSON, record.HistoryFile: histBytes, record.ObservationFile: obsBytes} {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		rc, err := reports.RecheckDir(dir, realChecker)
		if err != nil {
			msg := err.Error()
			if strings.ContainsAny(msg, "\n\r") {
				t.Fatalf("error is more than one line: %q", msg)
			}
			if !strings.Contains(msg, record.RunFile) && !strings.Contains(msg, record.HistoryFile) && !strings.Contains(msg, record.ObservationFile) {
				t.Fatalf("error names no file: %q", msg)
			}
			return
		}
		if v := rc.Verdict; v != verify.Pass && v != verify.Fail && v != verify.Unknown {
			t.Fatalf("verdict %q", v)
		}
	})
}

// realChecker is what `spockchaos check` runs (scenarios.RecheckStored).
func realChecker(ops []history.Op, observation json.RawMessage, survivors, failed []string) ([]verify.CheckResult, error) {
	var obs verify.Observation
	if err := record.DecodeArtifact(record.ObservationFile, observation, &obs); err != nil {
		return nil, err
	}
	return verify.CheckHistory(ops, &obs, verify.HistoryOptions{Survivors: survivors, Failed: failed}), nil
}
