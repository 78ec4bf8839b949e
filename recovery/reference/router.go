package reference

import (
	"github.com/spockchaos/spockchaos/recovery"
)

// The router decides, for each transaction of the failed node decoded
// from the source's recovery slot and each target, what becomes of it:
// replay, skip, hold or gap. It is pure (no I/O, no goroutines):
// sourceStream.feed asks it and does the sending. The rules it applies
// (covers, and the stream's start) are in rules.go with their proofs.
//
// Decisions made elsewhere, before and after the router:
//   - which transactions the stream keeps at all: keeps (the failed
//     node's, past the lowest target position the stream was started
//     for) and copies (not the replication extensions' or the harness's
//     own schemas), both asked by the assembler;
//   - whether a target needs a replay at all: needsReplay (openTarget);
//   - where the decoding starts: streamStart (rules.go);
//   - per row, last update wins: lwwCond, judged by the target server
//     inside the replayed statement (apply.go), since only it knows the
//     row's commit timestamp.

// verdict is what becomes of one transaction for one target.
type verdict int

const (
	// skip: the target already has it (at or before its position), or
	// the target was cut off and gets nothing more.
	skip verdict = iota
	// replay: send it, after whatever was held for the target.
	replay
	// hold: the stream has not proven yet that it covers the target's
	// position (a floor message may follow within a few transactions):
	// keep it until the proof.
	hold
	// gap: no proof can come in time (maxHeld held already): the target is
	// cut off, given nothing more, and its progress is not advanced.
	gap
)

func (v verdict) String() string {
	return [...]string{"skip", "replay", "hold", "gap"}[v]
}

// maxHeld bounds the transactions held for one target until the stream
// proves it covers the target's position (see covers).
const maxHeld = 50000

// decide is the verdict for a transaction at pos for target t, given
// what the stream has proven so far.
func decide(pos position, t *routeTarget, p recovery.StreamProof) verdict {
	switch {
	case t.cut || pos <= t.fromPos:
		return skip
	case recovery.Covers(p, t.fromPos, t.from):
		return replay
	case len(t.held) < maxHeld:
		return hold
	default:
		return gap
	}
}

// keeps tells whether the stream keeps a transaction of the failed node
// at pos, for targets whose positions are at or past after: the others
// have it already.
func keeps(after, pos position) bool { return pos > after }

// skippedSchemas hold the replication extensions' catalogs and the
// harness's own barrier table: their rows are node bookkeeping, not user
// data, so recovery never copies them.
var skippedSchemas = map[string]bool{"pglogical": true, "spock": true, "spockchaos": true}

// copies tells whether a change to a table in schema is replayed.
func copies(schema string) bool { return !skippedSchemas[schema] }

// needsReplay tells whether a target at progress from lacks anything of
// a source at progress source.
func needsReplay(from, source recovery.LSN) bool { return from < source }

// routeTarget is the router's state for one target: its position, the
// transactions held for it until the proof, and whether it was cut off.
type routeTarget struct {
	from    recovery.LSN // its progress, an origin LSN (floors compare to it)
	fromPos position     // the same in the failed node's commit order
	held    []*txn
	cut     bool
}

// router routes a stream's transactions to its targets; targets[i] is
// the i-th target handed to the stream.
type router struct {
	// after is the position the stream was started for: it holds the
	// failed node's transactions past it only.
	after   position
	targets []*routeTarget
}

// delivery is transactions to send to one target, in order.
type delivery struct {
	target int
	txns   []*txn
}

// cutOff says a target gets nothing more: first is the first position
// held or offered for it (a gap), or, behind set, its position is behind
// the one the stream was started for.
type cutOff struct {
	target int
	first  position
	behind bool
}

// routing is what one decision asks of the stream: cut these targets
// off, send these transactions.
type routing struct {
	send []delivery
	cut  []cutOff
}

// newRouter routes to targets (theirs positions) for a stream started
// for after. A target behind after is cut off at once: the stream may
// have dropped what it lacks (positions only move forward, so this is a
// safeguard).
func newRouter(after position, targets []routeTarget) (*router, routing) {
	r := &router{after: after}
	var out routing
	for i := range targets {
		t := targets[i]
		r.targets = append(r.targets, &t)
		if t.fromPos < after {
			t.cut = true
			out.cut = append(out.cut, cutOff{target: i, behind: true})
		}
	}
	return r, out
}

// route decides for the transaction x, decoded with the stream's proof
// p as it stands, for every target.
func (r *router) route(x *txn, p recovery.StreamProof) routing {
	var out routing
	for i, t := range r.targets {
		switch decide(x.pos, t, p) {
		case replay:
			out.send = append(out.send, delivery{target: i, txns: append(t.held, x)})
			t.held = nil
		case hold:
			t.held = append(t.held, x)
		case gap:
			out.cut = append(out.cut, r.cut(i))
		}
	}
	return out
}

// cut cuts target i off, at the first transaction held for it.
func (r *router) cut(i int) cutOff {
	t := r.targets[i]
	first := t.held[0].pos
	t.cut, t.held = true, nil
	return cutOff{target: i, first: first}
}

// finish settles the targets with transactions still held once the
// decoding has ended (decoded: without error): sent when the stream
// proved them covered after all, else cut off.
func (r *router) finish(p recovery.StreamProof, decoded bool) routing {
	var out routing
	for i, t := range r.targets {
		if len(t.held) == 0 || t.cut {
			continue
		}
		if !decoded || !recovery.Covers(p, t.fromPos, t.from) {
			out.cut = append(out.cut, r.cut(i))
			continue
		}
		out.send = append(out.send, delivery{target: i, txns: t.held})
		t.held = nil
	}
	return out
}

// settled tells whether the stream may end past the source's last commit
// of the failed node: every target still fed is proven covered.
func (r *router) settled(p recovery.StreamProof) bool {
	for _, t := range r.targets {
		if !t.cut && !recovery.Covers(p, t.fromPos, t.from) {
			return false
		}
	}
	return true
}

// skipTo tells whether to stream the slot through the walsender from a
// keeper sample (streamStart) rather than peek it from its position
// confirmed: when the sample lies at least streamSkipMin past it.
func skipTo(confirmed recovery.LSN, samples []recovery.OriginSample, froms []recovery.LSN) (recovery.OriginSample, bool) {
	smp, ok := recovery.StreamStart(confirmed, samples, froms)
	return smp, ok && smp.Local-confirmed >= streamSkipMin
}
