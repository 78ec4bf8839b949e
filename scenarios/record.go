package scenarios

import (
	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/recovery"
)

// The run record (package record) imports no recovery code: the runner
// keeps recovery's own results while the run goes on and converts them
// here, once, when it closes the record. The leaf types have the same
// fields, so each converts directly; a field added on one side only does
// not compile (leaves) or fails the conversion spec (the result itself).

// recoveryRecord is res as stored in run.json (nil for nil).
func recoveryRecord(res *recovery.Result) *record.Recovery {
	if res == nil {
		return nil
	}
	return &record.Recovery{
		Strategy: res.Strategy, FailedNode: res.FailedNode,
		TransactionsRecovered: res.TransactionsRecovered, RowsRecovered: res.RowsRecovered,
		NothingToRecover: res.NothingToRecover, Note: res.Note,
		PerPair:   convertAll(res.PerPair, func(p recovery.Pair) record.RecoveryPair { return record.RecoveryPair(p) }),
		Phases:    convertAll(res.Phases, func(p recovery.Phase) record.RecoveryPhase { return record.RecoveryPhase(p) }),
		Actions:   convertAll(res.Actions, func(a recovery.Action) record.RecoveryAction { return record.RecoveryAction(a) }),
		Clones:    convertAll(res.Clones, func(c recovery.Clone) record.RecoveryClone { return record.RecoveryClone(c) }),
		Streams:   convertAll(res.Streams, func(s recovery.SlotStream) record.RecoveryStream { return record.RecoveryStream(s) }),
		Errors:    res.Errors,
		Findings:  res.Findings,
		Calls:     convertAll(res.Calls, func(c recovery.Call) record.RecoveryCall { return record.RecoveryCall(c) }),
		Effect:    convertAll(res.Effect, func(e recovery.Effect) record.RecoveryEffect { return record.RecoveryEffect(e) }),
		Survivors: res.Survivors,
		Progress:  convertAll(res.Progress, func(p recovery.Progress) record.RecoveryProgress { return record.RecoveryProgress(p) }),
	}
}

// keeperRecord is the slot keeper's report as stored in run.json (nil for
// nil).
func keeperRecord(rep *recovery.KeeperReport) *record.KeeperReport {
	if rep == nil {
		return nil
	}
	return &record.KeeperReport{Rounds: rep.Rounds, Advances: rep.Advances, Unread: rep.Unread,
		Slots: convertAll(rep.Slots, func(s recovery.KeeperSlot) record.KeeperSlot { return record.KeeperSlot(s) })}
}

// convertAll maps a list, keeping nil as nil (so that omitempty and null
// encode as before).
func convertAll[From, To any](in []From, convert func(From) To) []To {
	if in == nil {
		return nil
	}
	out := make([]To, len(in))
	for i, v := range in {
		out[i] = convert(v)
	}
	return out
}
