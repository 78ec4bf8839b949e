package recovery

import (
	"fmt"
	"strings"
)

// The safety rules of recovery, each with its proof and its table test
// beside it (rules_test.go): what may be dropped from a recovery slot
// (NextSlotPosition), where a recovery may start decoding it
// (streamStart), when a stream may be trusted with a floor message
// (floorValid), when a stream holds every transaction a target lacks
// (covers), when a target's progress may move to the source's
// (completeness), and when a stream started before the fence may serve
// the final plan (reusable). Everything else in recovery only acts on
// their answers; a rule removed or weakened fails a test here.

// OriginSample is one durable reading, on node S, of S's replication
// origin for peer X (the origin of S's subscription from X):
//   - Origin is its remote_lsn, a position in X's WAL: the origin LSN of
//     the last transaction of X that S applied (T);
//   - Local is its local_lsn, a position in S's WAL: the end of S's commit
//     record of T.
//
// PostgreSQL updates the pair together, under one lock, at each commit of
// the session holding the origin, and only forward. A sample is durable
// because the keeper reads it and writes a flushed logical message (the
// floor message, see FloorMessagePrefix) in one statement: WAL up to the
// message, T's commit record included, survives a crash of S.
type OriginSample struct {
	Origin LSN `json:"origin_lsn"`
	Local  LSN `json:"local_lsn"`
}

// PeerPosition is how far a peer P of the slot S->X has durably applied X:
// the remote_lsn of P's origin for X, read like a sample. Known is false
// when it could not be read this round (P down, paused, unreachable).
type PeerPosition struct {
	Node   string
	Known  bool
	Origin LSN
}

// SlotMove is what the advancement rule decided for one recovery slot.
type SlotMove struct {
	Move bool
	// To is the slot's new position (Move), a sample's Local.
	To LSN
	// Floor is that sample's Origin: every transaction of X that S holds
	// with a larger origin LSN is decodable from To.
	Floor LSN
	// Why says why the slot stays (not Move), or where it goes.
	Why string
}

// NextSlotPosition is the advancement rule for the recovery slot S->X
// (kept on S for peer X), at confirmed_flush current, given S's durable
// samples of its origin for X (oldest first) and the durable positions for
// X of every peer P of the slot: every member of the cluster other than S
// and X.
//
// The rule: the slot may move to the Local of the newest sample whose
// Origin is at or below every peer's position, and only forward. It stays
// when any peer's position is unknown, when no sample is that old, or when
// it is already there or past it.
//
// Why it never drops a transaction a survivor could need: let the chosen
// sample say (o, l) about S's last applied transaction T of X. S applies
// X's transactions in X's commit order, one session at a time holding
// that origin, so every transaction of X that S holds with an origin LSN
// past o committed after T, i.e. after l in S's WAL (after a crash of S,
// T is durable and whatever S applies again comes after the recovered
// end of WAL). Every peer P has applied X up to its position p_P >= o, in
// X's order, so P can only lack transactions past p_P >= o: each of them
// is at or after l, decodable from the slot. Transactions of X that S
// has not applied yet will commit after l as well. The proof point a
// recovery needs (proveComplete) is the sample's own floor message, which
// follows l in S's WAL and says (o, l): a target at or past o is covered
// by it even when no transaction of X at or before its position is left
// in the stream.
func NextSlotPosition(current LSN, samples []OriginSample, peers []PeerPosition) SlotMove {
	need := LSN(1<<64 - 1)
	var unknown []string
	for _, p := range peers {
		if !p.Known {
			unknown = append(unknown, p.Node)
			continue
		}
		need = min(need, p.Origin)
	}
	if len(unknown) > 0 {
		return SlotMove{Why: fmt.Sprintf("position of %s unknown", strings.Join(unknown, ","))}
	}
	best := -1
	for i, s := range samples {
		if s.Origin == 0 || s.Local == 0 {
			continue // nothing applied yet, or local_lsn not known (after a restart of S)
		}
		if s.Origin <= need {
			best = i
		}
	}
	if best < 0 {
		return SlotMove{Why: fmt.Sprintf("no sample at or below the peers' position %s", need)}
	}
	s := samples[best]
	if s.Local <= current {
		return SlotMove{To: current, Floor: s.Origin, Why: fmt.Sprintf("already at %s (newest usable sample ends at %s)", current, s.Local)}
	}
	return SlotMove{Move: true, To: s.Local, Floor: s.Origin, Why: fmt.Sprintf("to %s: every peer has applied up to origin LSN %s or later", s.Local, s.Origin)}
}

// streamStart is where a recovery may start its stream of the source's
// recovery slot: the Local of the newest of the
// source's durable samples of its origin for the failed node (oldest
// first) whose Origin is at or below every target's position (origin LSN
// in the failed node's WAL, read after the fence: final), when that is
// past the slot's confirmed_flush (start). It is NextSlotPosition's argument with the
// targets as the peers: each target lacks only transactions past its
// position >= Origin, and the source committed every one of those after
// Local. Starting there the server decodes what lies before without
// sending it, much cheaper than streaming what the targets have, and the sample's floor message, which
// follows Local, is then the stream's proof point (covered). ok is false
// when no sample qualifies (a target at 0/0 never lets one).
func StreamStart(start LSN, samples []OriginSample, targets []LSN) (to OriginSample, ok bool) {
	if len(targets) == 0 {
		return OriginSample{}, false
	}
	need := LSN(1<<64 - 1)
	for _, t := range targets {
		need = min(need, t)
	}
	for _, s := range samples {
		if s.Origin != 0 && s.Local != 0 && s.Origin <= need && s.Local > start && s.Local > to.Local {
			to, ok = s, true
		}
	}
	return to, ok
}

// Position is where a transaction or a target stands in the failed
// node's commit order: an origin LSN on pglogical, an origin commit
// timestamp (Unix microseconds) on Spock.
type Position = uint64

// streamProof is what a stream of the source's recovery slot has shown so
// far about the failed node's transactions: the position of the first one
// it passed (0: none yet), how many it passed, and the floor message it
// accepted (floorValid), if any.
type StreamProof struct {
	FirstPos   Position
	OriginTxns int64
	Floor      LSN
	FloorSet   bool
}

// covers tells whether the stream, as far as it went, provably holds
// every transaction of the failed node the source has after a target's
// position (fromPos in the failed node's commit order; from, the same as
// an origin LSN).
//
// Proof, by either of two facts:
//   - a transaction of the failed node at or before fromPos passed by:
//     the stream is the source's WAL in order, and the source applied the
//     failed node's transactions in the failed node's order, so every one
//     the source holds after fromPos comes after it in the stream (a
//     target at 0 lacks everything, and the stream starts at a slot that
//     never dropped what any survivor lacks: NextSlotPosition);
//   - a floor message valid from the stream's start (floorValid) said
//     (o, l) with o <= from: every transaction of the failed node the
//     source holds past o commits after l, at or after the stream's
//     start (NextSlotPosition's proof), so the stream holds each one the
//     target lacks.
//
// A stream that began after fromPos and carries no such floor might miss
// some: the target is held, then cut off (router).
func Covers(p StreamProof, fromPos Position, from LSN) bool {
	return fromPos == 0 || (p.FirstPos != 0 && p.FirstPos <= fromPos) || (p.FloorSet && from >= p.Floor)
}

// floorValid tells whether a floor message's sample (o, l) for the
// source's origin for the failed node may serve as a proof point in a
// stream that starts at start: l must be known and at or after start (the
// message follows l in the source's WAL, so it is in the stream; a slot
// that has moved past l may have dropped transactions committed after
// it), and o known (a sample read before anything was applied says
// nothing).
func FloorValid(smp OriginSample, start LSN) bool {
	return smp.Origin != 0 && smp.Local != 0 && smp.Local >= start
}

// gapReason is why a target's progress may not move to the source's.
type GapReason int

const (
	Complete       GapReason = iota
	NoFailedTxn              // the stream held nothing of the failed node, and no floor covers the target
	UnplacedTarget           // the target's position is unknown (Spock without spock.progress row)
	NotCovered               // the stream starts after the target's position
)

// completeness decides whether a target at fromPos/from, whose progress
// is behind the source's after its replay, may be advanced to the
// source's. Progress may only move over transactions that were replayed
// or provably absent; otherwise the target would never receive the gap
// when the failed node returns.
//
// Proof: the stream is the source's WAL, in order, from its start to an
// end marker written after the fence (so after the source's last
// transaction of the failed node) or to the source's last commit of the
// failed node read after the fence; when it covers the target (covers),
// it held every transaction the source has after the target's position,
// and the target was given each one. The source's progress may lie
// beyond the last one it held (pglogical advances an origin over a
// transaction it applied as empty, e.g. an update that lost a conflict),
// which leaves nothing to replay. A stream that held none of the failed
// node's transactions proves nothing unless a floor covers the target
// (then the target lacked only transactions with no replicated change),
// and neither does a target whose position is unknown.
func Completeness(p StreamProof, fromPos Position, from LSN, unplaced bool) GapReason {
	floorCovers := p.FloorSet && from >= p.Floor
	switch {
	case p.OriginTxns == 0 && !floorCovers:
		return NoFailedTxn
	case unplaced:
		return UnplacedTarget
	case !Covers(p, fromPos, from):
		return NotCovered
	}
	return Complete
}

// reusable tells whether the stream started before the fence, on the
// provisional source for targets at or past after, may serve the final
// plan: the same source, and every final target at or past after (its
// lowest position, lowest). Positions only move forward, so a target
// behind after cannot happen; were it to, that stream dropped what the
// target may lack, and the recovery decodes again instead.
func Reusable(sameSource bool, targets int, lowest, after Position) bool {
	return sameSource && targets > 0 && lowest >= after
}
