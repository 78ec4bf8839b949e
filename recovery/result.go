package recovery

import (
	"strings"
	"time"
)

// Result is what a recovery strategy did, as stored in the "recovery" part
// of results.json. A run where nothing needed recovery says so with
// NothingToRecover; it never reports zero silently.
type Result struct {
	Strategy              string `json:"strategy"`
	FailedNode            string `json:"failed_node"`
	TransactionsRecovered int64  `json:"transactions_recovered"`
	RowsRecovered         int64  `json:"rows_recovered"`
	NothingToRecover      bool   `json:"nothing_to_recover"`
	// Note explains choices made, e.g. a fallback to another strategy.
	Note    string   `json:"note,omitempty"`
	PerPair []Pair   `json:"per_pair"`
	Phases  []Phase  `json:"phases,omitempty"`
	Actions []Action `json:"actions,omitempty"`
	Clones  []Clone  `json:"clones,omitempty"`
	// Streams are the recovery slots the reference strategy streamed
	// (one per recovery: the source's for the failed node), from where;
	// it never copies nor moves them.
	Streams []SlotStream `json:"streams,omitempty"`
	// Errors are the harness's own failures (a step it could not do): the
	// run's verdict is then unknown.
	Errors []string `json:"errors,omitempty"`
	// Findings are failures of the system under test during its own
	// recovery (a Spock call that erred or hung, survivors left behind);
	// the run goes on to verify, and the recovered checker fails on them.
	Findings []string `json:"findings,omitempty"`
	// Calls are the system's recovery functions called, with what each
	// returned (Spock strategy only).
	Calls []Call `json:"calls,omitempty"`
	// Effect is what each survivor held of the failed node before and
	// after the system's own recovery, measured by the origin the system
	// really stamps (Spock strategy only).
	Effect []Effect `json:"effect,omitempty"`
	// Survivors are the nodes the strategy worked on.
	Survivors []string `json:"survivors,omitempty"`
	// Progress is each survivor's progress for the failed origin before
	// and after recovery (reference strategy; measured, never claimed).
	Progress []Progress `json:"progress,omitempty"`
}

// Merge adds the result o of a later recovery of the same run to r:
// failed nodes are listed, counts add up, pairs, phases, actions, clones,
// streams, errors, findings, calls and effects are concatenated, notes
// joined with " | ", and NothingToRecover holds only if it held for
// both. Survivors and Progress stay r's (the first recovery's).
func (r *Result) Merge(o *Result) {
	r.FailedNode += "," + o.FailedNode
	r.TransactionsRecovered += o.TransactionsRecovered
	r.RowsRecovered += o.RowsRecovered
	r.NothingToRecover = r.NothingToRecover && o.NothingToRecover
	r.PerPair = append(r.PerPair, o.PerPair...)
	r.Phases = append(r.Phases, o.Phases...)
	r.Actions = append(r.Actions, o.Actions...)
	r.Clones = append(r.Clones, o.Clones...)
	r.Streams = append(r.Streams, o.Streams...)
	r.Errors = append(r.Errors, o.Errors...)
	r.Findings = append(r.Findings, o.Findings...)
	r.Calls = append(r.Calls, o.Calls...)
	r.Effect = append(r.Effect, o.Effect...)
	if o.Note != "" {
		r.Note = strings.TrimSpace(r.Note + " | " + o.Note)
	}
}

// Progress is how far one survivor had applied the failed node's
// transactions (its origin's remote_lsn), before and after recovery.
type Progress struct {
	Node   string `json:"node"`
	Origin string `json:"origin"`
	Before string `json:"before"`
	After  string `json:"after,omitempty"`
}

// Pair is what one source sent to one target.
type Pair struct {
	Source       string        `json:"source"`
	Target       string        `json:"target"`
	Transactions int64         `json:"transactions"`
	Rows         int64         `json:"rows"`
	FromLSN      string        `json:"from_lsn,omitempty"`
	ToLSN        string        `json:"to_lsn,omitempty"`
	Duration     time.Duration `json:"duration_ns"`
	// RowsSkipped are row changes not applied because the target's row
	// was newer (last update wins) or absent for an update/delete.
	RowsSkipped int64 `json:"rows_skipped,omitempty"`
	// ApplyDuration is the part of Duration spent applying on the target
	// (the rest: connecting, cloning, waiting for the source's stream).
	ApplyDuration time.Duration `json:"apply_duration_ns,omitempty"`
	// DecodeDuration is how long the source's recovery slot took to stream
	// up to its end marker (side by side with the apply), and Decoded how
	// many transactions it carried (of every origin).
	DecodeDuration time.Duration `json:"decode_duration_ns,omitempty"`
	Decoded        int64         `json:"decoded_transactions,omitempty"`
}

// Phase is one named step of a strategy with its times.
type Phase struct {
	Name  string    `json:"name"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Action is one thing done on one node (SQL issued, its output).
type Action struct {
	Node   string    `json:"node"`
	At     time.Time `json:"at"`
	What   string    `json:"what"`
	Output string    `json:"output,omitempty"`
	Error  string    `json:"error,omitempty"`
}

// Clone is a slot clone a Spock runbook created for recovery (its
// clone_recovery_slot), and whether it was removed.
type Clone struct {
	Node    string `json:"node"`
	Slot    string `json:"slot"`
	Removed bool   `json:"removed"`
}

// SlotStream is a recovery slot the reference strategy streamed, and the
// position the stream began at.
type SlotStream struct {
	Node  string `json:"node"`
	Slot  string `json:"slot"`
	Start string `json:"start"`
}

// Call is one recovery function of the system under test, called on one
// node, and what it returned.
type Call struct {
	Node     string        `json:"node"`
	Function string        `json:"function"`
	Returned string        `json:"returned,omitempty"`
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// Effect is what one survivor held of the failed node (rows and
// transactions committed with its origin, and progress) before and after.
type Effect struct {
	Node         string `json:"node"`
	RowsBefore   int64  `json:"rows_before"`
	RowsAfter    int64  `json:"rows_after"`
	TxnsBefore   int64  `json:"transactions_before"`
	TxnsAfter    int64  `json:"transactions_after"`
	ProgressFrom string `json:"progress_before"`
	ProgressTo   string `json:"progress_after"`
}

// KeeperReport sums up what a Keeper did.
type KeeperReport struct {
	Rounds   int `json:"rounds"`
	Advances int `json:"advances"`
	// Unread counts node readings that failed (node down, paused, slow).
	Unread int `json:"unread"`
	// Slots is each slot's last decision.
	Slots []KeeperSlot `json:"slots,omitempty"`
}

// KeeperSlot is the last decision about one slot.
type KeeperSlot struct {
	Slot     string    `json:"slot"`
	Position string    `json:"position"`
	Floor    string    `json:"floor,omitempty"`
	Moved    time.Time `json:"moved,omitzero"`
	Why      string    `json:"why"`
}

// Advanced is what recoverytest.AdvanceSlots did on one node (the
// barrier-based advance, kept for old run records).
type Advanced struct {
	Node string `json:"node"`
	// To is the node's WAL position captured before the barrier; every
	// recovery slot of the node that was behind it now starts there.
	To    string `json:"to"`
	Slots int    `json:"slots"`
}
