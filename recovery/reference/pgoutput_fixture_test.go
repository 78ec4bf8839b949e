package reference

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/jackc/pglogrepl"

	"github.com/spockchaos/spockchaos/recovery"
)

// This file encodes pgoutput protocol-1 messages byte for byte as the
// server sends them (PostgreSQL docs, "Logical Replication Message
// Formats"), so the stream filter is tested on the wire format that
// pglogrepl parses, not on hand-built structs.

type wire []byte

func (w wire) u8(v byte) wire    { return append(w, v) }
func (w wire) u16(v uint16) wire { return binary.BigEndian.AppendUint16(w, v) }
func (w wire) u32(v uint32) wire { return binary.BigEndian.AppendUint32(w, v) }
func (w wire) u64(v uint64) wire { return binary.BigEndian.AppendUint64(w, v) }
func (w wire) str(s string) wire { return append(append(w, s...), 0) }
func (w wire) ts(t time.Time) wire {
	return w.u64(uint64(t.Sub(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).Microseconds()))
}

var pgEpochTS = time.Date(2026, 11, 25, 12, 0, 0, 123456000, time.UTC)

func begin(final recovery.LSN, xid uint32) wire { return beginAt(final, xid, pgEpochTS) }

func beginAt(final recovery.LSN, xid uint32, at time.Time) wire {
	return wire{'B'}.u64(uint64(final)).ts(at).u32(xid)
}

func origin(lsn recovery.LSN, name string) wire { return wire{'O'}.u64(uint64(lsn)).str(name) }

func commit(lsn recovery.LSN) wire {
	return wire{'C'}.u8(0).u64(uint64(lsn)).u64(uint64(lsn) + 8).ts(pgEpochTS)
}

// relationMsg: columns as name, with key columns prefixed by '*'.
func relationMsg(id uint32, ns, name string, cols ...string) wire {
	w := wire{'R'}.u32(id).str(ns).str(name).u8('d').u16(uint16(len(cols)))
	for _, c := range cols {
		flags := byte(0)
		if c[0] == '*' {
			flags, c = 1, c[1:]
		}
		w = w.u8(flags).str(c).u32(25).u32(0xffffffff)
	}
	return w
}

// tuple: nil is NULL, "\x00u" is an unchanged TOAST value, else text.
func tuple(w wire, vals ...*string) wire {
	w = w.u16(uint16(len(vals)))
	for _, v := range vals {
		switch {
		case v == nil:
			w = w.u8('n')
		case *v == "\x00u":
			w = w.u8('u')
		default:
			w = w.u8('t').u32(uint32(len(*v)))
			w = append(w, *v...)
		}
	}
	return w
}

func s(v string) *string { return &v }

func insertMsg(rel uint32, vals ...*string) wire { return tuple(wire{'I'}.u32(rel).u8('N'), vals...) }

func updateMsg(rel uint32, key []*string, vals ...*string) wire {
	w := wire{'U'}.u32(rel)
	if key != nil {
		w = tuple(w.u8('K'), key...)
	}
	return tuple(w.u8('N'), vals...)
}

func deleteMsg(rel uint32, key ...*string) wire { return tuple(wire{'D'}.u32(rel).u8('K'), key...) }

func truncateMsg(rel uint32) wire { return wire{'T'}.u32(1).u8(0).u32(rel) }

func logicalMsg(prefix, content string) wire { return logicalMsgAt(1, prefix, content) }

// logicalMsgAt is a non-transactional logical message at lsn.
func logicalMsgAt(lsn recovery.LSN, prefix, content string) wire {
	return append(wire{'M'}.u8(0).u64(uint64(lsn)).str(prefix).u32(uint32(len(content))), content...)
}

// feedAll parses each message with pglogrepl and feeds it, collecting the
// transactions the assembler keeps.
func feedAll(a *assembler, msgs ...wire) ([]*txn, error) {
	var out []*txn
	for _, m := range msgs {
		if a.done {
			return out, fmt.Errorf("message fed after the stream ended")
		}
		parsed, err := pglogrepl.Parse(m)
		if err != nil {
			return out, err
		}
		t, err := a.feed(parsed)
		if err != nil {
			return out, err
		}
		if t != nil {
			out = append(out, t)
		}
	}
	return out, nil
}
