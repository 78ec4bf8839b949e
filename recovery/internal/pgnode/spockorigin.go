package pgnode

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Spock marks the transactions it applies differently from pglogical
// (facts read on real Spock 5.0.11 and 6.0.0, PostgreSQL 17.11):
//   - the provider's spock_output sends an ORIGIN message with its own
//     Spock node_id for its local transactions, and the apply worker sets
//     replorigin_session_origin to that id ("adjust the
//     replorigin_session_origin to the real origin_id", spock_apply.c), so
//     each applied commit record carries the ORIGIN NODE's node_id (e.g.
//     49708 for n1), for which pg_replication_origin has no row;
//   - the session's named origin spk_<db>_<provider>_<sub> is only
//     advanced (remote_lsn = the provider's commit end LSN) and is never
//     stamped on a commit;
//   - pgoutput names an origin only when pg_replication_origin has it, so
//     a pgoutput stream of a Spock node carries NO Origin message for
//     applied transactions, and they look like local ones.
// So the reference strategy finds the failed node's transactions in the
// stream by their commit-timestamp origin (pg_xact_commit_timestamp_origin
// of the transaction's xid on the source), and places them by commit
// timestamp: a Spock apply commits with the origin's commit timestamp, in
// the origin's commit order, and Spock's logical commit clock (its
// PostgreSQL patch pg17-025) keeps a node's commit timestamps strictly
// increasing. A target's position is the origin commit timestamp it
// applied last (spock.progress.remote_commit_ts).

// spockOrigins tells which roidents on one node mean "committed by the
// failed node": its Spock node_id (what Spock's apply stamps) and the
// node's named origin for it (what a reference replay into that node
// stamped, in an earlier recovery).
type SpockOrigins struct {
	FailedID uint32 // the failed node's Spock node_id
	IDs      map[uint32]bool
}

func (o *SpockOrigins) IsFailed(roident uint32) bool { return o != nil && o.IDs[roident] }

// spockNodeID reads a node's Spock node_id by name (ids are derived from
// names: n1=49708, n2=26863, n3=9057 on any cluster).
func SpockNodeID(ctx context.Context, conn *pgx.Conn, name string) (uint32, error) {
	var id uint32
	err := conn.QueryRow(ctx, "SELECT node_id::int8 FROM spock.node WHERE node_name = $1", name).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("node %s is not in spock.node", name)
	}
	if err != nil {
		return 0, fmt.Errorf("read node_id of %s from spock.node: %w", name, err)
	}
	return id, nil
}

// failedOriginsOn returns the roidents that mean the failed node on the
// node conn is connected to; named is that node's named origin for the
// failed node.
func FailedOriginsOn(ctx context.Context, conn *pgx.Conn, failed, named string) (*SpockOrigins, error) {
	id, err := SpockNodeID(ctx, conn, failed)
	if err != nil {
		return nil, err
	}
	o := &SpockOrigins{FailedID: id, IDs: map[uint32]bool{id: true}}
	var roident uint32
	err = conn.QueryRow(ctx, "SELECT roident::int8 FROM pg_replication_origin WHERE roname = $1", named).Scan(&roident)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("read roident of origin %s: %w", named, err)
	}
	if err == nil {
		o.IDs[roident] = true
	}
	return o, nil
}

// spockAppliedUpTo is the commit timestamp of the failed node's last
// transaction the node applied, from spock.progress (zero, and false,
// when Spock has no row for it: then every transaction of the node in the
// stream is offered to the target, and last-update-wins skips what it
// has).
func SpockAppliedUpTo(ctx context.Context, conn *pgx.Conn, failedID uint32) (time.Time, bool, error) {
	var ts *time.Time
	err := conn.QueryRow(ctx, "SELECT max(remote_commit_ts) FROM spock.progress WHERE remote_node_id = $1::int8::oid", failedID).Scan(&ts)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read spock.progress for node_id %d: %w", failedID, err)
	}
	if ts == nil || ts.IsZero() || ts.Unix() <= 0 {
		return time.Time{}, false, nil
	}
	return *ts, true, nil
}

// xidOrigins resolves the commit-timestamp origin of a source's
// transactions by xid. The stream carries xids in increasing-ish order,
// so a miss fetches a window of xidWindow xids in one query; xids without
// a commit timestamp yet (in progress) are not cached.
type XIDOrigins struct {
	conn    *pgx.Conn
	cache   map[uint32]uint32
	queries int
}

const xidWindow = 2048

func NewXIDOrigins(conn *pgx.Conn) *XIDOrigins {
	return &XIDOrigins{conn: conn, cache: map[uint32]uint32{}}
}

// originOf returns xid's roident on the source (0 = local).
func (x *XIDOrigins) OriginOf(ctx context.Context, xid uint32) (uint32, error) {
	if r, ok := x.cache[xid]; ok {
		return r, nil
	}
	if len(x.cache) > 1<<20 {
		clear(x.cache)
	}
	x.queries++
	rows, err := x.conn.Query(ctx, `SELECT x, (pg_xact_commit_timestamp_origin(((x % 4294967296))::text::xid)).roident::int8
FROM generate_series($1::int8, $1::int8 + $2) x WHERE x % 4294967296 >= 3`, int64(xid), xidWindow-1)
	if err != nil {
		return 0, fmt.Errorf("read commit-timestamp origins of xids from %d: %w", xid, err)
	}
	for rows.Next() {
		var id int64
		var roident *int64
		if err := rows.Scan(&id, &roident); err != nil {
			rows.Close()
			return 0, fmt.Errorf("read commit-timestamp origins of xids from %d: %w", xid, err)
		}
		if roident != nil {
			x.cache[uint32(id)] = uint32(*roident)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read commit-timestamp origins of xids from %d: %w", xid, err)
	}
	r, ok := x.cache[xid]
	if !ok {
		return 0, fmt.Errorf("xid %d has no commit timestamp on the source (track_commit_timestamp off, or truncated)", xid)
	}
	return r, nil
}
