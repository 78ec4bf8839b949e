package record

import (
	"sort"
	"strings"
	"time"
)

// The runner writes the record through these calls while the run goes on
// (and sets the run's identity and outcome fields directly).

// AddPhase records a phase that ended, keeping Phases ordered by start (a
// phase that encloses others, like load, is added after them).
func (r *Run) AddPhase(p Phase) {
	r.Phases = append(r.Phases, p)
	sort.SliceStable(r.Phases, func(i, j int) bool { return r.Phases[i].Start.Before(r.Phases[j].Start) })
}

// StartFault records that a fault of kind starts now on node and returns
// its index for EndFault.
func (r *Run) StartFault(kind, node string, inFlightAtKill int, detail string) int {
	r.Faults = append(r.Faults, Fault{Kind: kind, Node: node, InFlightAtKill: inFlightAtKill, Start: time.Now().UTC(), Detail: detail})
	return len(r.Faults) - 1
}

// EndFault records that fault i (from StartFault) was healed now.
func (r *Run) EndFault(i int) { r.Faults[i].End = time.Now().UTC() }

// EndOpenFault ends, now, the latest fault of node that has not ended
// (nothing if there is none).
func (r *Run) EndOpenFault(node string) {
	for i := len(r.Faults) - 1; i >= 0; i-- {
		if r.Faults[i].Node == node && r.Faults[i].End.IsZero() {
			r.EndFault(i)
			return
		}
	}
}

// LastKill is the latest kill fault (any kind starting with "kill") of
// node.
func (r *Run) LastKill(node string) (Fault, bool) {
	for i := len(r.Faults) - 1; i >= 0; i-- {
		if f := r.Faults[i]; f.Node == node && strings.HasPrefix(f.Kind, "kill") {
			return f, true
		}
	}
	return Fault{}, false
}

// Node is the record of the node name, added if the run has none yet.
func (r *Run) Node(name string) *Node {
	for i := range r.Nodes {
		if r.Nodes[i].Name == name {
			return &r.Nodes[i]
		}
	}
	r.Nodes = append(r.Nodes, Node{Name: name})
	return &r.Nodes[len(r.Nodes)-1]
}

// AddCheckers records checker results, in the order they ran.
func (r *Run) AddCheckers(results ...CheckResult) { r.Checkers = append(r.Checkers, results...) }

// AddRecoveryTime records the recovery time of one failed node.
func (r *Run) AddRecoveryTime(t RecoveryTime) { r.RecoveryTimes = append(r.RecoveryTimes, t) }

// Conclude records how the run ended: the nodes alive at the end and those
// lost for good, and the harness error that stopped it (nil for none).
// The verdict is then the checkers' combination, or unknown on an error.
func (r *Run) Conclude(survivors, failed []string, err error) {
	r.Survivors, r.Failed = survivors, failed
	r.Verdict = Combine(r.Checkers)
	if err != nil {
		r.Error, r.Verdict = err.Error(), Unknown
	}
}

// Interrupt records that the run was stopped (a signal or its timeout):
// the verdict is unknown, and err says so unless an error is already
// recorded.
func (r *Run) Interrupt(stop Interruption, err error) {
	r.Interrupted, r.Verdict = &stop, Unknown
	if r.Error == "" && err != nil {
		r.Error = err.Error()
	}
}

// Broken records a harness error found after the run concluded (e.g. the
// history could not be closed): the verdict is unknown.
func (r *Run) Broken(err error) { r.Error, r.Verdict = err.Error(), Unknown }
