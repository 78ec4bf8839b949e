package reference

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/internal/pgnode"
)

type relation struct {
	id     uint32
	schema string
	name   string
	cols   []relColumn
}

type relColumn struct {
	name string
	key  bool
}

// value is one column value as pgoutput sent it: kind 'n' (null),
// 'u' (unchanged TOAST, not sent) or 't' (text).
type value struct {
	kind byte
	text string
}

type change struct {
	kind byte // 'I', 'U', 'D'
	rel  *relation
	new  []value // insert, update
	old  []value // update (when the key changed or identity full), delete
}

// txn is one transaction of the failed origin to replay on a target.
type txn struct {
	xid        uint32
	originName string
	originLSN  recovery.LSN
	commitTime time.Time
	commitLSN  recovery.LSN
	changes    []change
	// pos places it in the failed node's commit order: its origin LSN
	// (pglogical) or its origin commit timestamp in microseconds (Spock).
	pos uint64
}

// position is where a transaction or a target stands in the failed node's
// commit order: an origin LSN on pglogical, an origin commit timestamp
// (Unix microseconds) on Spock (see spockorigin.go).
type position = uint64

func tsPosition(t time.Time) position { return uint64(t.UnixMicro()) }

// assembler turns a pgoutput message stream into the transactions a target
// lacks: those of the failed node placed after after. On pglogical they
// are those whose Origin message names origin, placed by origin LSN; on
// Spock (spock set) those whose commit-timestamp origin is the failed
// node, placed by commit timestamp. It stops at the logical message
// endMarkerPrefix/marker.
type assembler struct {
	origin string
	after  position
	marker string

	// spock, when set, finds the failed node's transactions by xid.
	spock *spockStream

	// start is where the stream begins in the source's WAL (the slot's
	// confirmed_flush); floor, once floorSet, is the origin LSN of the
	// first floor message for origin in the stream that is valid from
	// start (see noteFloor).
	start    recovery.LSN
	floor    recovery.LSN
	floorSet bool

	// lastOfFailed (0: unknown) is where the source's last commit of the
	// failed node ends in its WAL, read after the fence. Once the stream
	// has passed it (passed) and stopEarly agrees, nothing of the failed
	// node is left to come and the stream ends there instead of at the
	// end marker, which lies after all the load committed since.
	lastOfFailed recovery.LSN
	stopEarly    func() bool
	// reached is the furthest point passed was called with: where the
	// stream stands in the source's WAL, as far as the assembler knows.
	reached recovery.LSN

	rels  map[uint32]*relation
	cur   *txn
	keep  bool
	done  bool
	stats streamStats
}

// streamStats count what the stream carried, for the result.
type streamStats struct {
	transactions   int64 // transactions decoded
	originTxns     int64 // of the failed origin
	alreadyApplied int64 // of the failed origin, at or before the target's progress
	emptyKept      int64 // of the failed origin, new, but only with skipped tables
	// firstPos and lastPos are the positions of the first and the highest
	// failed-origin transaction seen (0: none).
	firstPos, lastPos position
	// floorAt is the local LSN of the floor kept (0: none).
	floorAt recovery.LSN
	// streamed is how long the stream took to its end.
	streamed time.Duration
	// endedAt is where the stream ended early (0: at the end marker).
	endedAt recovery.LSN
}

// proof is what the stream has shown so far (see covers).
func (a *assembler) proof() recovery.StreamProof {
	return recovery.StreamProof{FirstPos: a.stats.firstPos, OriginTxns: a.stats.originTxns, Floor: a.floor, FloorSet: a.floorSet}
}

// spockStream is what the assembler needs on Spock: the failed node's
// roidents on the source and a resolver of xids to roidents.
type spockStream struct {
	ctx     context.Context
	origins *pgnode.SpockOrigins
	xids    xidResolver
}

// xidResolver gives a source transaction's commit-timestamp origin
// (roident, 0 = local) by xid.
type xidResolver interface {
	OriginOf(ctx context.Context, xid uint32) (uint32, error)
}

func newAssembler(origin string, after position, marker string) *assembler {
	return &assembler{origin: origin, after: after, marker: marker, rels: map[uint32]*relation{}}
}

// markFailed records that the current transaction is the failed node's,
// at pos, and keeps it when it is past after.
func (a *assembler) markFailed(pos position) {
	a.stats.originTxns++
	a.cur.pos = pos
	a.stats.lastPos = max(a.stats.lastPos, pos)
	if a.stats.firstPos == 0 {
		a.stats.firstPos = pos
	}
	if keeps(a.after, pos) {
		a.keep = true
	} else {
		a.stats.alreadyApplied++
	}
}

// feed consumes one message. It returns a finished transaction to apply, or
// nil. After the end marker, done is true and nothing more is expected.
func (a *assembler) feed(m pglogrepl.Message) (*txn, error) {
	switch m := m.(type) {
	case *pglogrepl.RelationMessage:
		r := &relation{id: m.RelationID, schema: m.Namespace, name: m.RelationName}
		for _, c := range m.Columns {
			r.cols = append(r.cols, relColumn{name: c.Name, key: c.Flags&1 != 0})
		}
		a.rels[m.RelationID] = r
	case *pglogrepl.BeginMessage:
		if a.cur != nil {
			return nil, fmt.Errorf("stream: begin of xid %d inside another transaction", m.Xid)
		}
		a.cur = &txn{xid: m.Xid, commitTime: m.CommitTime, commitLSN: m.FinalLSN}
		a.keep = false
		a.stats.transactions++
		if a.spock != nil {
			// Begin comes at the commit (protocol 1): the commit timestamp
			// and its origin are recorded by now.
			roident, err := a.spock.xids.OriginOf(a.spock.ctx, m.Xid)
			if err != nil {
				return nil, fmt.Errorf("stream: origin of xid %d: %w", m.Xid, err)
			}
			if a.spock.origins.IsFailed(roident) {
				a.markFailed(tsPosition(m.CommitTime))
			}
		}
	case *pglogrepl.OriginMessage:
		if a.cur == nil {
			return nil, fmt.Errorf("stream: origin message outside a transaction")
		}
		a.cur.originName, a.cur.originLSN = m.Name, m.CommitLSN
		if a.spock == nil && m.Name == a.origin {
			a.markFailed(uint64(m.CommitLSN))
		}
	case *pglogrepl.InsertMessage:
		return nil, a.add(m.RelationID, change{kind: 'I', new: values(m.Tuple)})
	case *pglogrepl.UpdateMessage:
		return nil, a.add(m.RelationID, change{kind: 'U', new: values(m.NewTuple), old: values(m.OldTuple)})
	case *pglogrepl.DeleteMessage:
		return nil, a.add(m.RelationID, change{kind: 'D', old: values(m.OldTuple)})
	case *pglogrepl.TruncateMessage:
		if a.keep {
			return nil, fmt.Errorf("stream: transaction at origin LSN %s truncates tables: not replayed by reference recovery", a.cur.originLSN)
		}
	case *pglogrepl.CommitMessage:
		if a.cur == nil {
			return nil, fmt.Errorf("stream: commit outside a transaction")
		}
		t, keep := a.cur, a.keep
		a.cur, a.keep = nil, false
		a.passed(recovery.LSN(m.TransactionEndLSN))
		if !keep {
			return nil, nil
		}
		if len(t.changes) == 0 {
			a.stats.emptyKept++
			return nil, nil
		}
		return t, nil
	case *pglogrepl.LogicalDecodingMessage:
		if !m.Transactional {
			defer a.passed(recovery.LSN(m.LSN))
		}
		if m.Prefix == recovery.FloorMessagePrefix {
			return nil, a.noteFloor(string(m.Content))
		}
		if m.Prefix == recovery.EndMarkerPrefix && string(m.Content) == a.marker {
			if a.cur != nil {
				return nil, fmt.Errorf("stream: end marker inside a transaction")
			}
			a.done = true
		}
	}
	return nil, nil
}

// passed ends the stream early once it has reached at (a commit's end, or
// a non-transactional message: either is sent only after every commit
// before it in the source's WAL) at or past lastOfFailed, when stopEarly
// agrees (every target still applying is proven covered; until then the
// stream goes on, to the end marker if need be).
func (a *assembler) passed(at recovery.LSN) {
	a.reached = max(a.reached, at)
	if a.done || a.lastOfFailed == 0 || at < a.lastOfFailed || a.cur != nil {
		return
	}
	if a.stopEarly != nil && !a.stopEarly() {
		return
	}
	a.done = true
	a.stats.endedAt = at
}

// noteFloor reads a floor message of the source (see FloorMessagePrefix).
// Its line for the source's origin for the failed node says (o, l): every
// transaction of the failed node the source holds with an origin LSN past
// o commits after l in the source's WAL. When l is at or after the
// stream's start, the stream holds every one of them, so a target whose
// origin LSN for the failed node is at or past o is covered (see
// covers); the first such floor, the lowest, is kept.
func (a *assembler) noteFloor(content string) error {
	if a.floorSet {
		return nil
	}
	for _, line := range strings.Split(content, "\n") {
		f := strings.Fields(line)
		if len(f) != 4 || f[1] != a.origin {
			continue
		}
		smp, err := recovery.ParseSample(f[2], f[3])
		if err != nil {
			return fmt.Errorf("stream: floor message: %w", err)
		}
		if recovery.FloorValid(smp, a.start) {
			a.floor, a.floorSet = smp.Origin, true
			a.stats.floorAt = smp.Local
		}
	}
	return nil
}

func (a *assembler) add(relID uint32, c change) error {
	if a.cur == nil {
		return fmt.Errorf("stream: row change outside a transaction")
	}
	if !a.keep {
		return nil
	}
	r, ok := a.rels[relID]
	if !ok {
		return fmt.Errorf("stream: change to relation %d before its relation message", relID)
	}
	if !copies(r.schema) {
		return nil
	}
	for _, vs := range [][]value{c.new, c.old} {
		if vs != nil && len(vs) != len(r.cols) {
			return fmt.Errorf("stream: %s.%s change has %d columns, relation has %d", r.schema, r.name, len(vs), len(r.cols))
		}
		for _, v := range vs {
			if v.kind == 'b' {
				return fmt.Errorf("stream: binary column value in %s.%s (binary mode is never requested)", r.schema, r.name)
			}
		}
	}
	c.rel = r
	a.cur.changes = append(a.cur.changes, c)
	return nil
}

func values(t *pglogrepl.TupleData) []value {
	if t == nil {
		return nil
	}
	vs := make([]value, len(t.Columns))
	for i, c := range t.Columns {
		vs[i] = value{kind: c.DataType, text: string(c.Data)}
	}
	return vs
}
