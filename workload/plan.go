package workload

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spockchaos/spockchaos/workload/history"
)

// Plan lists, without a database, the first n ops each client of workload
// name would issue with seed: one line per op, "<process> <f> <txn_id>
// <value>", clients in node then client order. Two calls with the same
// arguments return the same lines; a determinism test compares them.
// For ycsb the key sequences are shared between clients (as in go-ycsb),
// so the plan is exact for the clients run one after another, as here.
func Plan(name string, seed int64, nodes []string, clientsPerNode, n int) ([]string, error) {
	w, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	if u, ok := w.(*UniqueConflict); ok {
		u.clock = func() time.Time { return time.Unix(0, 0) } // windows follow the wall clock: fixed here
	}
	targets := make([]Target, len(nodes))
	for i, node := range nodes {
		targets[i] = Target{Name: node}
	}
	prefix := fmt.Sprintf("s%d-", seed)
	var lines []string
	add := func(process string, spec opSpec) {
		v, _ := json.Marshal(spec.Value)
		lines = append(lines, fmt.Sprintf("%s %s %s %s", process, spec.F, spec.TxnID, v))
	}
	thread := 0
	for _, node := range nodes {
		for i := range clientsPerNode {
			process := ProcessID(node, i)
			r := ClientRand(seed, process)
			switch w := w.(type) {
			case generated:
				gen := w.generator(prefix, process)
				for range n {
					add(process, gen(node, r))
				}
			case *Bank:
				w.owners = NodeNames(targets)
				for range n {
					add(process, w.next(node, r))
				}
			case *Hotkey:
				for range n {
					add(process, w.next(process, r))
				}
			case *Conflict:
				for range n {
					add(process, w.next(process, r))
				}
			case *YCSB:
				cw, err := w.coreWorkload()
				if err != nil {
					return nil, err
				}
				wctx := seededThread(cw, thread, len(nodes)*clientsPerNode, r.Int64())
				db := &ycsbDB{exec: planExec{add: func(spec opSpec) { add(process, spec) }}}
				for range n {
					_ = cw.DoTransaction(wctx, db)
					db.flush()
				}
			default:
				return nil, fmt.Errorf("plan: workload %s has no plan", name)
			}
			thread++
		}
	}
	return lines, nil
}

// planExec answers every op with ok and empty results, noting each.
type planExec struct{ add func(opSpec) }

func (p planExec) record(_ context.Context, spec opSpec) Outcome {
	p.add(spec)
	return Outcome{Type: history.Ok}
}

func (p planExec) query(context.Context, opSpec) Outcome { return Outcome{Type: history.Ok} }

func (p planExec) recordDone(spec opSpec, _ Outcome) { p.add(spec) }
