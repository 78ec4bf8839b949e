package reports

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/verify"
	"github.com/spockchaos/spockchaos/workload/history"
)

//go:embed report.html.tmpl
var reportTemplateText string

var reportTemplate = template.Must(template.New("report.html").Funcs(template.FuncMap{
	"fmtTime": fmtTime,
	"fmtTS": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return fmtTime(*t)
	},
}).Parse(reportTemplateText))

type htmlPage struct {
	Run         *record.Run
	Verdict     string
	Replay      string
	GeneratedAt string
	HistoryOps  int
	PhaseChart  template.HTML
	Phases      []phaseRow
	NodeCharts  []nodeCharts
	Divergence  []classView
	DiffRows    []diffRowView
	Config      string
}

// classView is a divergence class and its server evidence, in lines.
type classView struct {
	verify.DivergenceClass
	Evidence []string
}

func classViews(classes []verify.DivergenceClass, evidence []record.ClassEvidence) []classView {
	out := make([]classView, 0, len(classes))
	for _, c := range classes {
		out = append(out, classView{DivergenceClass: c, Evidence: EvidenceLines(EvidenceFor(c, evidence))})
	}
	return out
}

type phaseRow struct{ Label, Start, End, Duration, Error string }

type nodeCharts struct {
	Node                string
	Throughput, Latency template.HTML
}

type diffRowView struct {
	Checker, Key string
	Item         template.HTML
	Text         string // lower-case text the filter box searches
}

// RenderHTML is report.html for run and its history: one self-contained
// page (inline CSS, inline SVG charts, a few lines of inline script for
// the filter box; a Content-Security-Policy forbids any fetch).
func RenderHTML(run *record.Run, ops []history.Op) ([]byte, error) {
	page := htmlPage{
		Run:         run,
		Verdict:     string(run.EffectiveVerdict()),
		Replay:      record.ReplayCommand(run),
		GeneratedAt: time.Now().UTC().Format(time.RFC3339),
		HistoryOps:  len(ops),
		Config:      configJSON(run),
		Divergence:  classViews(DivergenceOf(run.Checkers), run.Evidence),
	}
	var err error
	if page.PhaseChart, err = phaseChart(run); err != nil {
		return nil, err
	}
	for _, p := range run.Phases {
		row := phaseRow{Label: phaseLabel(p.Name), Start: fmtTime(p.Start), End: fmtTime(p.End), Error: p.Error}
		if d := p.Duration(); d > 0 {
			row.Duration = d.Round(time.Millisecond).String()
		}
		page.Phases = append(page.Phases, row)
	}
	if page.NodeCharts, err = activityCharts(ActivityOf(ops), run.Phases); err != nil {
		return nil, err
	}
	for _, d := range DiffRowsOf(run.Checkers) {
		text, _ := json.Marshal(d.Item)
		page.DiffRows = append(page.DiffRows, diffRowView{
			Checker: d.Checker, Key: d.Key, Item: renderValue(d.Item),
			Text: strings.ToLower(d.Checker + " " + d.Key + " " + string(text)),
		})
	}
	var buf bytes.Buffer
	if err := reportTemplate.Execute(&buf, page); err != nil {
		return nil, fmt.Errorf("render report.html: %w", err)
	}
	return buf.Bytes(), nil
}

func activityCharts(a Activity, phases []record.Phase) ([]nodeCharts, error) {
	var out []nodeCharts
	var markers []Marker
	for _, p := range phases {
		if !a.Start.IsZero() && !p.Start.IsZero() {
			markers = append(markers, Marker{X: p.Start.Sub(a.Start).Seconds(), Label: strings.Fields(phaseLabel(p.Name))[0]})
		}
	}
	for _, s := range a.Nodes {
		thr, err := lineChart(s.Node+": completions per second", "ops/s",
			[]string{"ok", "fail", "info"}, [][]float64{s.Ok, s.Fail, s.Info}, a.Faults, markers)
		if err != nil {
			return nil, err
		}
		lat, err := lineChart(s.Node+": latency", "ms",
			[]string{"mean", "max"}, [][]float64{s.LatencyMean, s.LatencyMax}, a.Faults, markers)
		if err != nil {
			return nil, err
		}
		out = append(out, nodeCharts{Node: s.Node, Throughput: thr, Latency: lat})
	}
	return out, nil
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05.000")
}

// configJSON is the run's Config as indented JSON text for display.
func configJSON(run *record.Run) string {
	if run.Config == nil {
		return ""
	}
	b, err := json.MarshalIndent(run.Config, "", "  ")
	if err != nil {
		return "unprintable config: " + err.Error()
	}
	return string(b)
}
