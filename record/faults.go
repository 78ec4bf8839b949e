package record

import (
	"encoding/json"

	"github.com/spockchaos/spockchaos/workload/history"
)

// FaultsFromHistory builds Run.Faults from the history's fault events: one
// Fault per start event, ended by the matching heal/healed event (same
// kind and node). InFlightAtKill is read from the event detail
// "in_flight_at_kill" when the fault injector recorded it.
func FaultsFromHistory(ops []history.Op) []Fault {
	var out []Fault
	open := map[string]int{} // kind/node -> index in out, until healed
	for _, op := range ops {
		if op.Type != history.Fault {
			continue
		}
		var ev history.FaultEvent
		_ = json.Unmarshal(op.Value, &ev) // an undecodable value counts as a start
		key := op.F + "/" + op.Node
		i, isOpen := open[key]
		switch ev.Phase {
		case history.FaultHeal, history.FaultHealed:
			if isOpen {
				out[i].End = op.Wall
				if ev.Phase == history.FaultHealed {
					delete(open, key)
				}
			}
		default:
			if n, ok := ev.Detail["in_flight_at_kill"].(float64); ok && isOpen {
				out[i].InFlightAtKill = int(n)
			}
			if isOpen {
				continue // effective after start: the same fault
			}
			f := Fault{Kind: op.F, Node: op.Node, Start: op.Wall}
			if n, ok := ev.Detail["in_flight_at_kill"].(float64); ok {
				f.InFlightAtKill = int(n)
			}
			open[key] = len(out)
			out = append(out, f)
		}
	}
	return out
}
