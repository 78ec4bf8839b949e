package history

import (
	"encoding/json"
	"time"
)

// Type is what an Op record says happened.
type Type string

// Op types. A client op is an Invoke followed by exactly one of Ok, Fail or
// Info; an invoke with no completion at the end of a history counts as Info.
// Fault records (Type Fault) are interleaved in the same stream.
const (
	Invoke Type = "invoke" // the client is about to do f
	Ok     Type = "ok"     // f happened
	Fail   Type = "fail"   // f certainly did not happen
	Info   Type = "info"   // unknown: e.g. the connection was lost during COMMIT
	Fault  Type = "fault"  // a fault event (see FaultEvent in Value)
)

// Op is one record of a history (one JSON line).
type Op struct {
	// Index is the record's position in the history, from 0, gapless.
	Index int64 `json:"index"`
	// Time is monotonic time since the history started, in nanoseconds.
	Time time.Duration `json:"time"`
	// Wall is the wall-clock time of the record (UTC).
	Wall time.Time `json:"wall"`
	// Process is the client id; completions carry the invoke's process.
	// Faults use "nemesis".
	Process string `json:"process"`
	// Node is the node the client talks to (or the fault's target).
	Node string `json:"node,omitempty"`
	// Type is invoke, ok, fail, info or fault.
	Type Type `json:"type"`
	// F is the operation's name (e.g. "ledger-txn", "transfer", "kill").
	F string `json:"f"`
	// Value is the op's argument or result, workload-specific JSON.
	Value json.RawMessage `json:"value,omitempty"`
	// TxnID identifies the transaction the op wrote (when it writes one).
	TxnID string `json:"txn_id,omitempty"`
	// Error is the error text of a fail or info completion.
	Error string `json:"error,omitempty"`
}

// NemesisProcess is the Process of fault records.
const NemesisProcess = "nemesis"

// FaultPhase is the phase of a fault event.
type FaultPhase string

// Fault phases, in the order a fault goes through them.
const (
	FaultStart     FaultPhase = "start"     // injection begins
	FaultEffective FaultPhase = "effective" // the fault's effect was confirmed
	FaultHeal      FaultPhase = "heal"      // the fault was healed
	FaultHealed    FaultPhase = "healed"    // healing was confirmed
)

// FaultEvent is the Value of a Fault record; F holds the fault kind.
type FaultEvent struct {
	Phase  FaultPhase     `json:"phase"`
	Target []string       `json:"target,omitempty"` // nodes (or a pair) affected
	Detail map[string]any `json:"detail,omitempty"` // e.g. in_flight_at_kill
}
