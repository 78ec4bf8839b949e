package recovery

import (
	"fmt"
	"sync"
	"time"
)

// recorder fills a Result from concurrent steps.
type Recorder struct {
	mu  sync.Mutex
	Res *Result
}

func NewRecorder(strategy string, in Input) *Recorder {
	return &Recorder{Res: &Result{Strategy: strategy, FailedNode: in.Failed, PerPair: []Pair{}}}
}

// Phase runs fn as the named phase and records its times.
func (r *Recorder) Phase(name string, fn func() error) error {
	start := time.Now()
	err := fn()
	r.mu.Lock()
	r.Res.Phases = append(r.Res.Phases, Phase{Name: name, Start: start, End: time.Now()})
	r.mu.Unlock()
	return err
}

// Action records one thing done on a node and its output or error.
func (r *Recorder) Action(node, what, output string, err error) {
	a := Action{Node: node, At: time.Now(), What: what, Output: output}
	if err != nil {
		a.Error = err.Error()
	}
	r.mu.Lock()
	r.Res.Actions = append(r.Res.Actions, a)
	r.mu.Unlock()
}

// Fail records an error; it names the node and step already.
func (r *Recorder) Fail(err error) {
	r.mu.Lock()
	r.Res.Errors = append(r.Res.Errors, err.Error())
	r.mu.Unlock()
}

// Finding records a failure of the system under test.
func (r *Recorder) Finding(format string, args ...any) {
	r.mu.Lock()
	r.Res.Findings = append(r.Res.Findings, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

func (r *Recorder) Call(c Call) {
	r.mu.Lock()
	r.Res.Calls = append(r.Res.Calls, c)
	r.mu.Unlock()
}

func (r *Recorder) Clone(node, slot string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Res.Clones = append(r.Res.Clones, Clone{Node: node, Slot: slot})
	return len(r.Res.Clones) - 1
}

func (r *Recorder) Streamed(node, slot string, start LSN) {
	r.mu.Lock()
	r.Res.Streams = append(r.Res.Streams, SlotStream{Node: node, Slot: slot, Start: start.String()})
	r.mu.Unlock()
}

func (r *Recorder) CloneRemoved(i int) {
	r.mu.Lock()
	r.Res.Clones[i].Removed = true
	r.mu.Unlock()
}

func (r *Recorder) Pair(p Pair) {
	r.mu.Lock()
	r.Res.PerPair = append(r.Res.PerPair, p)
	r.Res.TransactionsRecovered += p.Transactions
	r.Res.RowsRecovered += p.Rows
	r.mu.Unlock()
}

func (r *Recorder) Note(format string, args ...any) {
	r.mu.Lock()
	if r.Res.Note != "" {
		r.Res.Note += "; "
	}
	r.Res.Note += fmt.Sprintf(format, args...)
	r.mu.Unlock()
}

// Result returns the Result and, when any step failed, an error joining
// the recorded errors.
func (r *Recorder) Result() (*Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.Res.Errors) == 0 {
		return r.Res, nil
	}
	return r.Res, fmt.Errorf("%s recovery of %s: %d error(s), first: %s", r.Res.Strategy, r.Res.FailedNode, len(r.Res.Errors), r.Res.Errors[0])
}
