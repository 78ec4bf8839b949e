package reports

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"regexp"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/spockchaos/spockchaos/record"
)

// Charts are drawn by gonum.org/v1/plot as SVG and inlined in report.html:
// no script, no asset, nothing fetched when the page is opened.

var faultShade = color.NRGBA{R: 230, G: 60, B: 60, A: 55}

// svgHead matches what vgsvg writes before the <svg> element's attributes
// that matter, so the chart can be inlined and scaled by CSS.
var svgHead = regexp.MustCompile(`(?s)^.*?<svg width="[^"]*" height="[^"]*"`)

// inlineSVG renders p as an <svg> element for inlining.
func inlineSVG(p *plot.Plot, w, h vg.Length, label string) (template.HTML, error) {
	c := vgsvg.New(w, h)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("render chart %q: %w", label, err)
	}
	head := fmt.Sprintf(`<svg class="chart" role="img" aria-label="%s"`, template.HTMLEscapeString(label))
	out := svgHead.ReplaceAllLiteralString(buf.String(), head)
	return template.HTML(out), nil // #nosec: produced by vgsvg from escaped text
}

// Marker is a labelled instant on a chart's time axis (a phase start).
type Marker struct {
	X     float64
	Label string
}

// lineChart draws one line per series over seconds 0..n-1, with the fault
// windows shaded behind them and the markers as dashed vertical lines.
func lineChart(title, yLabel string, names []string, series [][]float64, faults []Window, markers []Marker) (template.HTML, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "seconds since the history started"
	p.Y.Label.Text = yLabel
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(8), -vg.Points(14) // below the marker labels
	yMax := 1.0
	xMax := 1.0
	for _, s := range series {
		for _, v := range s {
			yMax = math.Max(yMax, v)
		}
		xMax = math.Max(xMax, float64(len(s)))
	}
	yMax *= 1.6 // headroom for the legend
	for _, w := range faults {
		to := w.To
		if to-w.From < 0.2 { // keep an instant fault visible
			to = w.From + 0.2
		}
		poly, err := plotter.NewPolygon(plotter.XYs{{X: w.From, Y: 0}, {X: to, Y: 0}, {X: to, Y: yMax}, {X: w.From, Y: yMax}})
		if err != nil {
			return "", fmt.Errorf("chart %q: fault window: %w", title, err)
		}
		poly.Color = faultShade
		poly.LineStyle.Width = 0
		p.Add(poly)
	}
	seen := map[string]bool{}
	for _, w := range faults {
		if label := w.Kind + " " + w.Node; !seen[label] {
			seen[label] = true
			p.Legend.Add(label, &plotter.Polygon{Color: faultShade})
		}
	}
	if err := addMarkers(p, markers, xMax, yMax); err != nil {
		return "", fmt.Errorf("chart %q: %w", title, err)
	}
	for i, s := range series {
		xys := make(plotter.XYs, len(s))
		for x, v := range s {
			xys[x] = plotter.XY{X: float64(x) + 0.5, Y: v}
		}
		if len(xys) == 0 {
			continue
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return "", fmt.Errorf("chart %q: series %s: %w", title, names[i], err)
		}
		line.Color = plotutil.Color(i)
		line.Width = vg.Points(1.5)
		p.Add(line)
		p.Legend.Add(names[i], line)
	}
	p.X.Min, p.X.Max = 0, xMax
	p.Y.Min, p.Y.Max = 0, yMax
	sansSerif(p)
	return inlineSVG(p, 16*vg.Centimeter, 7*vg.Centimeter, title)
}

// addMarkers draws each marker inside [0, xMax] as a dashed vertical line
// labelled at the top.
func addMarkers(p *plot.Plot, markers []Marker, xMax, yMax float64) error {
	var xys plotter.XYs
	var labels []string
	for _, m := range markers {
		if m.X < 0 || m.X > xMax {
			continue
		}
		line, err := plotter.NewLine(plotter.XYs{{X: m.X, Y: 0}, {X: m.X, Y: yMax}})
		if err != nil {
			return fmt.Errorf("marker %s: %w", m.Label, err)
		}
		line.Color = color.Gray{Y: 120}
		line.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
		p.Add(line)
		xys = append(xys, plotter.XY{X: m.X, Y: yMax * 0.97})
		labels = append(labels, m.Label)
	}
	if len(xys) == 0 {
		return nil
	}
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return fmt.Errorf("marker labels: %w", err)
	}
	for i := range l.TextStyle {
		l.TextStyle[i].Font = font.Font{Typeface: "Liberation", Variant: "Sans", Size: vg.Points(8)}
		l.TextStyle[i].Color = color.Gray{Y: 90}
	}
	l.Offset = vg.Point{X: vg.Points(2)}
	p.Add(l)
	return nil
}

// phaseChart draws the phases T0..T7 as bars on one time axis (seconds
// since the first phase started); a phase that never ended is drawn to the
// last known time.
func phaseChart(run *record.Run) (template.HTML, error) {
	start, end := runSpan(run)
	if start.IsZero() {
		return "", nil
	}
	p := plot.New()
	p.Title.Text = "phases"
	p.X.Label.Text = "seconds since the run started"
	p.Add(plotter.NewGrid())
	n := len(run.Phases)
	var ticks []plot.Tick
	for i, ph := range run.Phases {
		y := float64(n - 1 - i) // T0 on top
		from := ph.Start.Sub(start).Seconds()
		to := end.Sub(start).Seconds()
		if !ph.End.IsZero() {
			to = ph.End.Sub(start).Seconds()
		}
		if to-from < 0.01 {
			to = from + 0.01
		}
		bar, err := plotter.NewPolygon(plotter.XYs{{X: from, Y: y - 0.35}, {X: to, Y: y - 0.35}, {X: to, Y: y + 0.35}, {X: from, Y: y + 0.35}})
		if err != nil {
			return "", fmt.Errorf("phase chart: %s: %w", ph.Name, err)
		}
		bar.Color = plotutil.Color(i)
		if ph.Error != "" {
			bar.Color = color.RGBA{R: 220, G: 40, B: 40, A: 255}
		}
		bar.LineStyle.Width = 0
		p.Add(bar)
		ticks = append(ticks, plot.Tick{Value: y, Label: phaseLabel(ph.Name)})
	}
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Min, p.Y.Max = -0.6, float64(n)-0.4
	p.X.Min = 0
	p.X.Max = math.Max(end.Sub(start).Seconds(), 0.01)
	sansSerif(p)
	return inlineSVG(p, 16*vg.Centimeter, vg.Length(1.5+0.6*float64(n))*vg.Centimeter, "phase timeline")
}

// phaseLabel is "T<i> name" for the phases of DESIGN.md section 3.
func phaseLabel(name string) string {
	for i, known := range record.PhaseOrder {
		if known == name {
			return fmt.Sprintf("T%d %s", i, name)
		}
	}
	return name
}

// sansSerif sets every text of p in Liberation Sans (bundled with gonum,
// so text is measured right; browsers fall back to their sans-serif).
func sansSerif(p *plot.Plot) {
	sans := func(f *font.Font) {
		f.Typeface = "Liberation"
		f.Variant = "Sans"
	}
	sans(&p.Title.TextStyle.Font)
	sans(&p.Legend.TextStyle.Font)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		sans(&a.Label.TextStyle.Font)
		sans(&a.Tick.Label.Font)
	}
}
