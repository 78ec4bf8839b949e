package record

import (
	"github.com/spockchaos/spockchaos/workload/history"
)

// FaultsFromHistory builds Run.Faults from the history's fault windows
// (history.FaultWindows). InFlightAtKill is read from the event detail
// "in_flight_at_kill" when the fault injector recorded it.
func FaultsFromHistory(ops []history.Op) []Fault {
	var out []Fault
	for _, w := range history.FaultWindows(ops) {
		f := Fault{Kind: w.Kind, Node: w.Node, Start: w.Start, End: w.End}
		for _, ev := range w.Events {
			if ev.Phase == history.FaultHeal || ev.Phase == history.FaultHealed {
				continue
			}
			if n, ok := ev.Detail["in_flight_at_kill"].(float64); ok {
				f.InFlightAtKill = int(n) // the latest sample before the heal
			}
		}
		out = append(out, f)
	}
	return out
}
