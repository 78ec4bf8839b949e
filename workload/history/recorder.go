package history

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Recorder appends ops to a JSON Lines stream. It is safe for concurrent
// use; indexes are assigned in the order records are written, so the file
// order is the history order. Records are buffered: Flush at every phase
// end bounds what a harness crash can lose.
type Recorder struct {
	mu       sync.Mutex
	w        *bufio.Writer
	closer   io.Closer
	start    time.Time
	next     int64
	inFlight map[string]int // open invokes per node
	err      error
}

// NewRecorder records into w.
func NewRecorder(w io.Writer) *Recorder {
	r := &Recorder{w: bufio.NewWriterSize(w, 64<<10), start: time.Now(), inFlight: map[string]int{}}
	if c, ok := w.(io.Closer); ok {
		r.closer = c
	}
	return r
}

// Create records into a new file at path.
func Create(path string) (*Recorder, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create history %s: %w", path, err)
	}
	return NewRecorder(f), nil
}

// Invoke records that process is about to do f on node.
func (r *Recorder) Invoke(process, node, f string, value any, txnID string) Op {
	return r.append(Op{Process: process, Node: node, Type: Invoke, F: f, Value: marshal(value), TxnID: txnID})
}

// Complete records the completion (Ok, Fail or Info) of inv.
func (r *Recorder) Complete(inv Op, t Type, value any, errText string) Op {
	if value == nil {
		return r.append(Op{Process: inv.Process, Node: inv.Node, Type: t, F: inv.F, Value: inv.Value, TxnID: inv.TxnID, Error: errText})
	}
	return r.append(Op{Process: inv.Process, Node: inv.Node, Type: t, F: inv.F, Value: marshal(value), TxnID: inv.TxnID, Error: errText})
}

// Fault records a fault event of kind (e.g. "kill") on node.
func (r *Recorder) Fault(kind, node string, ev FaultEvent) Op {
	return r.append(Op{Process: NemesisProcess, Node: node, Type: Fault, F: kind, Value: marshal(ev)})
}

// InFlight is the number of invokes on node without a completion yet.
func (r *Recorder) InFlight(node string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inFlight[node]
}

func (r *Recorder) append(op Op) Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	op.Index = r.next
	r.next++
	op.Time = time.Since(r.start)
	op.Wall = time.Now().UTC()
	switch op.Type {
	case Invoke:
		r.inFlight[op.Node]++
	case Ok, Fail, Info:
		r.inFlight[op.Node]--
	}
	line, err := json.Marshal(op)
	if err == nil {
		line = append(line, '\n')
		_, err = r.w.Write(line)
	}
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("write history record %d: %w", op.Index, err)
	}
	return op
}

// Flush writes buffered records out; it returns the first write error.
func (r *Recorder) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.w.Flush(); err != nil && r.err == nil {
		r.err = fmt.Errorf("flush history: %w", err)
	}
	return r.err
}

// Close flushes and closes the underlying file, if any.
func (r *Recorder) Close() error {
	err := r.Flush()
	if r.closer != nil {
		if cerr := r.closer.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close history: %w", cerr)
		}
	}
	return err
}

func marshal(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	if raw, ok := v.(json.RawMessage); ok {
		return raw
	}
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"unmarshalable": fmt.Sprint(v)})
	}
	return b
}
