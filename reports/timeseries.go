package reports

import (
	"sort"
	"time"

	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/workload/history"
)

// NodeSeries is one node's client activity per second of the history.
type NodeSeries struct {
	Node string
	// Per second s (index s, from the history's start): completions by type.
	Ok, Fail, Info []float64
	// Per second: mean and max latency (ms) of the ops completed that second
	// (completion time - invoke time); NaN-free: 0 where nothing completed.
	LatencyMean, LatencyMax []float64
}

// Window is a fault window in seconds since the history's start.
type Window struct {
	Kind, Node string
	From, To   float64
}

// Activity is what the charts of report.html are drawn from.
type Activity struct {
	Seconds int
	Nodes   []NodeSeries
	Faults  []Window
	// Start is the wall-clock time of the history's time 0 (zero if the
	// history is empty).
	Start time.Time
}

// ActivityOf computes per-node throughput and latency per second and the
// fault windows from ops. Completions are matched to invokes by process
// (a process has at most one open invoke).
func ActivityOf(ops []history.Op) Activity {
	var a Activity
	if len(ops) == 0 {
		return a
	}
	a.Start = ops[0].Wall.Add(-ops[0].Time)
	last := ops[len(ops)-1].Time
	a.Seconds = int(last/time.Second) + 1

	byNode := map[string]*NodeSeries{}
	series := func(node string) *NodeSeries {
		s, ok := byNode[node]
		if !ok {
			s = &NodeSeries{Node: node}
			for _, p := range []*[]float64{&s.Ok, &s.Fail, &s.Info, &s.LatencyMean, &s.LatencyMax} {
				*p = make([]float64, a.Seconds)
			}
			byNode[node] = s
		}
		return s
	}
	open := map[string]history.Op{}
	latSum := map[string][]float64{}
	for _, op := range ops {
		sec := int(op.Time / time.Second)
		switch op.Type {
		case history.Invoke:
			open[op.Process] = op
			series(op.Node)
		case history.Ok, history.Fail, history.Info:
			s := series(op.Node)
			switch op.Type {
			case history.Ok:
				s.Ok[sec]++
			case history.Fail:
				s.Fail[sec]++
			default:
				s.Info[sec]++
			}
			if inv, ok := open[op.Process]; ok {
				delete(open, op.Process)
				ms := float64(op.Time-inv.Time) / float64(time.Millisecond)
				if latSum[op.Node] == nil {
					latSum[op.Node] = make([]float64, a.Seconds)
				}
				latSum[op.Node][sec] += ms
				if ms > s.LatencyMax[sec] {
					s.LatencyMax[sec] = ms
				}
			}
		}
	}
	for _, f := range record.FaultsFromHistory(ops) {
		w := Window{Kind: f.Kind, Node: f.Node, From: f.Start.Sub(a.Start).Seconds(), To: float64(a.Seconds)}
		if !f.End.IsZero() {
			w.To = f.End.Sub(a.Start).Seconds()
		}
		a.Faults = append(a.Faults, w)
	}
	for node, s := range byNode {
		for i := range s.LatencyMean {
			if n := s.Ok[i] + s.Fail[i] + s.Info[i]; n > 0 && latSum[node] != nil {
				s.LatencyMean[i] = latSum[node][i] / n
			}
		}
		a.Nodes = append(a.Nodes, *s)
	}
	sort.Slice(a.Nodes, func(i, j int) bool { return a.Nodes[i].Node < a.Nodes[j].Node })
	return a
}
