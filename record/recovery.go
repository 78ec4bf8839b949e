package record

import "time"

// Recovery is what the run's recovery did (all its attempts merged), as
// stored in run.json's "recovery": the plain shape of recovery.Result,
// which the runner converts at the edge so that the record imports no
// recovery code.
type Recovery struct {
	Strategy              string `json:"strategy"`
	FailedNode            string `json:"failed_node"`
	TransactionsRecovered int64  `json:"transactions_recovered"`
	RowsRecovered         int64  `json:"rows_recovered"`
	NothingToRecover      bool   `json:"nothing_to_recover"`
	// Note explains choices made, e.g. a fallback to another strategy.
	Note    string           `json:"note,omitempty"`
	PerPair []RecoveryPair   `json:"per_pair"`
	Phases  []RecoveryPhase  `json:"phases,omitempty"`
	Actions []RecoveryAction `json:"actions,omitempty"`
	Clones  []RecoveryClone  `json:"clones,omitempty"`
	// Streams are the recovery slots the reference strategy streamed, from
	// where.
	Streams []RecoveryStream `json:"streams,omitempty"`
	// Errors are the harness's own failures (a step it could not do): the
	// run's verdict is then unknown.
	Errors []string `json:"errors,omitempty"`
	// Findings are failures of the system under test during its own
	// recovery; the recovered checker fails on them.
	Findings []string `json:"findings,omitempty"`
	// Calls are the system's recovery functions called, with what each
	// returned (Spock strategy only).
	Calls []RecoveryCall `json:"calls,omitempty"`
	// Effect is what each survivor held of the failed node before and
	// after the system's own recovery (Spock strategy only).
	Effect []RecoveryEffect `json:"effect,omitempty"`
	// Survivors are the nodes the strategy worked on.
	Survivors []string `json:"survivors,omitempty"`
	// Progress is each survivor's progress for the failed origin before
	// and after recovery (reference strategy; measured, never claimed).
	Progress []RecoveryProgress `json:"progress,omitempty"`
}

// RecoveryProgress is how far one survivor had applied the failed node's
// transactions (its origin's remote_lsn), before and after recovery.
type RecoveryProgress struct {
	Node   string `json:"node"`
	Origin string `json:"origin"`
	Before string `json:"before"`
	After  string `json:"after,omitempty"`
}

// RecoveryPair is what one source sent to one target.
type RecoveryPair struct {
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
	// ApplyDuration is the part of Duration spent applying on the target.
	ApplyDuration time.Duration `json:"apply_duration_ns,omitempty"`
	// DecodeDuration is how long the source's recovery slot took to stream
	// up to its end marker, and Decoded how many transactions it carried.
	DecodeDuration time.Duration `json:"decode_duration_ns,omitempty"`
	Decoded        int64         `json:"decoded_transactions,omitempty"`
}

// RecoveryPhase is one named step of a strategy with its times.
type RecoveryPhase struct {
	Name  string    `json:"name"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// RecoveryAction is one thing done on one node (SQL issued, its output).
type RecoveryAction struct {
	Node   string    `json:"node"`
	At     time.Time `json:"at"`
	What   string    `json:"what"`
	Output string    `json:"output,omitempty"`
	Error  string    `json:"error,omitempty"`
}

// RecoveryClone is a slot clone a Spock runbook created for recovery, and
// whether it was removed.
type RecoveryClone struct {
	Node    string `json:"node"`
	Slot    string `json:"slot"`
	Removed bool   `json:"removed"`
}

// RecoveryStream is a recovery slot the reference strategy streamed, and
// the position the stream began at.
type RecoveryStream struct {
	Node  string `json:"node"`
	Slot  string `json:"slot"`
	Start string `json:"start"`
}

// RecoveryCall is one recovery function of the system under test, called
// on one node, and what it returned.
type RecoveryCall struct {
	Node     string        `json:"node"`
	Function string        `json:"function"`
	Returned string        `json:"returned,omitempty"`
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// RecoveryEffect is what one survivor held of the failed node (rows and
// transactions committed with its origin, and progress) before and after.
type RecoveryEffect struct {
	Node         string `json:"node"`
	RowsBefore   int64  `json:"rows_before"`
	RowsAfter    int64  `json:"rows_after"`
	TxnsBefore   int64  `json:"transactions_before"`
	TxnsAfter    int64  `json:"transactions_after"`
	ProgressFrom string `json:"progress_before"`
	ProgressTo   string `json:"progress_after"`
}

// RecoveryTime is the recovery time of one failed node: from its kill to
// every survivor being level for it (the recovery strategy returned
// without error and without findings; the reference strategy checks that
// every survivor's progress for the node is equal), split into detect
// (kill to the kill confirmed) and recover (the rest).
type RecoveryTime struct {
	Node     string    `json:"node"`
	Killed   time.Time `json:"killed"`
	Detected time.Time `json:"detected"`
	// Level is when the survivors were level; zero when they never were
	// in this run (Error says why).
	Level time.Time `json:"level,omitzero"`
	// Seconds is Level - Killed (0 when not level).
	Seconds        float64 `json:"seconds"`
	DetectSeconds  float64 `json:"detect_seconds"`
	RecoverSeconds float64 `json:"recover_seconds"`
	// DecodeSeconds and ApplySeconds are the recovery's decode (streaming
	// the source's recovery slot) and apply parts, summed over its pairs.
	DecodeSeconds float64 `json:"decode_seconds,omitempty"`
	ApplySeconds  float64 `json:"apply_seconds,omitempty"`
	Transactions  int64   `json:"transactions"`
	Error         string  `json:"error,omitempty"`
}

// SlotAdvance is one advance of the recovery slots at a barrier; Error
// says why nothing moved.
type SlotAdvance struct {
	At    time.Time      `json:"at"`
	Nodes []SlotAdvanced `json:"nodes,omitempty"`
	Error string         `json:"error,omitempty"`
}

// SlotAdvanced is how far one node's recovery slots were advanced.
type SlotAdvanced struct {
	Node  string `json:"node"`
	To    string `json:"to"`
	Slots int    `json:"slots"`
}

// KeeperReport is what the continuous advancement of the recovery slots
// did during the load.
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
