package history

import (
	"encoding/json"
	"time"
)

// FaultWindow is one fault of a history, from its first record to its
// heal: the start, effective and heal records of one kind on one node.
type FaultWindow struct {
	Kind  string
	Node  string
	Start time.Time
	// End is the wall time of its "healed" record, else of its "heal",
	// else zero (never healed).
	End time.Time
	// Events are the decoded records in order, heal records included; an
	// undecodable record counts as an event with no phase.
	Events []FaultEvent
}

// FaultWindows pairs a history's fault records into windows. A record
// of a kind and node with no open window opens one (whatever its
// phase, except heal); heal sets End and healed also closes it, so the
// same fault on the same node later is a new window. Records are taken
// in order; heal records with no open window are dropped.
func FaultWindows(ops []Op) []FaultWindow {
	var out []FaultWindow
	open := map[string]int{} // kind/node -> index in out, until healed
	for _, op := range ops {
		if op.Type != Fault {
			continue
		}
		var ev FaultEvent
		_ = json.Unmarshal(op.Value, &ev)
		key := op.F + "/" + op.Node
		i, isOpen := open[key]
		healing := ev.Phase == FaultHeal || ev.Phase == FaultHealed
		switch {
		case isOpen:
			out[i].Events = append(out[i].Events, ev)
			if healing {
				out[i].End = op.Wall
			}
			if ev.Phase == FaultHealed {
				delete(open, key)
			}
		case !healing:
			open[key] = len(out)
			out = append(out, FaultWindow{Kind: op.F, Node: op.Node, Start: op.Wall, Events: []FaultEvent{ev}})
		}
	}
	return out
}
