package recovery

import (
	"fmt"
	"sync"
	"time"
)

// recorder fills a Result from concurrent steps.
type recorder struct {
	mu  sync.Mutex
	res *Result
}

func newRecorder(strategy string, in Input) *recorder {
	return &recorder{res: &Result{Strategy: strategy, FailedNode: in.Failed, PerPair: []Pair{}}}
}

// phase runs fn as the named phase and records its times.
func (r *recorder) phase(name string, fn func() error) error {
	start := time.Now()
	err := fn()
	r.mu.Lock()
	r.res.Phases = append(r.res.Phases, Phase{Name: name, Start: start, End: time.Now()})
	r.mu.Unlock()
	return err
}

// action records one thing done on a node and its output or error.
func (r *recorder) action(node, what, output string, err error) {
	a := Action{Node: node, At: time.Now(), What: what, Output: output}
	if err != nil {
		a.Error = err.Error()
	}
	r.mu.Lock()
	r.res.Actions = append(r.res.Actions, a)
	r.mu.Unlock()
}

// fail records an error; it names the node and step already.
func (r *recorder) fail(err error) {
	r.mu.Lock()
	r.res.Errors = append(r.res.Errors, err.Error())
	r.mu.Unlock()
}

// finding records a failure of the system under test.
func (r *recorder) finding(format string, args ...any) {
	r.mu.Lock()
	r.res.Findings = append(r.res.Findings, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

func (r *recorder) call(c Call) {
	r.mu.Lock()
	r.res.Calls = append(r.res.Calls, c)
	r.mu.Unlock()
}

func (r *recorder) clone(node, slot string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.Clones = append(r.res.Clones, Clone{Node: node, Slot: slot})
	return len(r.res.Clones) - 1
}

func (r *recorder) streamed(node, slot string, start LSN) {
	r.mu.Lock()
	r.res.Streams = append(r.res.Streams, SlotStream{Node: node, Slot: slot, Start: start.String()})
	r.mu.Unlock()
}

func (r *recorder) cloneRemoved(i int) {
	r.mu.Lock()
	r.res.Clones[i].Removed = true
	r.mu.Unlock()
}

func (r *recorder) pair(p Pair) {
	r.mu.Lock()
	r.res.PerPair = append(r.res.PerPair, p)
	r.res.TransactionsRecovered += p.Transactions
	r.res.RowsRecovered += p.Rows
	r.mu.Unlock()
}

func (r *recorder) note(format string, args ...any) {
	r.mu.Lock()
	if r.res.Note != "" {
		r.res.Note += "; "
	}
	r.res.Note += fmt.Sprintf(format, args...)
	r.mu.Unlock()
}

// result returns the Result and, when any step failed, an error joining
// the recorded errors.
func (r *recorder) result() (*Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.res.Errors) == 0 {
		return r.res, nil
	}
	return r.res, fmt.Errorf("%s recovery of %s: %d error(s), first: %s", r.res.Strategy, r.res.FailedNode, len(r.res.Errors), r.res.Errors[0])
}
