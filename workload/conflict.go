package workload

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/spockchaos/spockchaos/workload/history"
)

// Conflict: Setup inserts keys 0..N-1 (v 0, writer "setup") and
// records conflict-init; clients insert (if absent), update and
// delete (if present) those keys from every node at once. Each write
// is one statement returning its xid; right after its commit the
// client reads pg_xact_commit_timestamp of that xid and the ok
// completion carries it (commit_ts), which last-update-wins compares.
// A write that touched no row is fail with reason no_effect.

// ConflictSchema is the conflict workload's table (the shared data contract).
const ConflictSchema = `CREATE TABLE IF NOT EXISTS conflict_kv (
  k      int    PRIMARY KEY,
  v      bigint NOT NULL,
  writer text   NOT NULL
)`

// Conflict op names. Every write is one autocommit statement on one key.
const (
	FConflictInit   = "conflict-init"   // setup: keys 0..Keys-1 inserted with v 0, writer "setup"
	FConflictInsert = "conflict-insert" // insert k if absent on the client's node
	FConflictUpdate = "conflict-update" // update k if present
	FConflictDelete = "conflict-delete" // delete k if present
)

// ConflictSetupWriter is the writer of the rows Setup inserts.
const ConflictSetupWriter = "setup"

// Conflict has clients on every node insert the same few keys, update
// the same rows and delete rows others update, at the same time, so that
// replication must resolve insert-insert, update-update and
// update-delete conflicts. Every write carries a value unique to it
// (v, with the client's process as writer), so the final state tells
// which write won; its completion records the commit timestamp that
// last-update-wins compares (pg_xact_commit_timestamp of its xid, read
// right after the commit on the same connection).
type Conflict struct {
	// Keys is the number of contended keys 0..Keys-1 (default 8).
	Keys int
	// NoDeletes leaves deletes out (inserts and updates only): pglogical
	// applies a remote DELETE whatever its timestamp, so deletes break
	// last-update-wins there by design ("conflict-no-delete").
	NoDeletes bool
}

// ConflictInitValue is the Value of the conflict-init op.
type ConflictInitValue struct {
	Keys int `json:"keys"`
}

// ConflictValue is the Value of a conflict write: the invoke names key and
// value (none for a delete); an ok completion adds the commit timestamp
// (absent when it could not be read: CommitTSError says why).
type ConflictValue struct {
	Key           int        `json:"key"`
	Value         *int64     `json:"value,omitempty"`
	CommitTS      *time.Time `json:"commit_ts,omitempty"`
	CommitTSError string     `json:"commit_ts_error,omitempty"`
}

func (c *Conflict) keys() int {
	if c.Keys <= 0 {
		return 8
	}
	return c.Keys
}

func (c *Conflict) Name() string {
	if c.NoDeletes {
		return "conflict-no-delete"
	}
	return "conflict"
}
func (c *Conflict) Schema() string { return ConflictSchema }

// Setup inserts the keys on nodes[0] and records conflict-init (process
// "setup"), so that updates and deletes find rows from the start.
func (c *Conflict) Setup(ctx context.Context, nodes []Target, rec *history.Recorder) error {
	if len(nodes) == 0 {
		return fmt.Errorf("conflict setup: no nodes")
	}
	inv := rec.Invoke("setup", nodes[0].Name, FConflictInit, ConflictInitValue{Keys: c.keys()}, "")
	err := func() error {
		conn, err := pgx.Connect(ctx, nodes[0].DSN)
		if err != nil {
			return err
		}
		defer conn.Close(context.WithoutCancel(ctx))
		_, err = conn.Exec(ctx, `INSERT INTO conflict_kv (k, v, writer) SELECT g, 0, $2 FROM generate_series(0, $1::int - 1) AS g
ON CONFLICT (k) DO NOTHING`, c.keys(), ConflictSetupWriter)
		return err
	}()
	out := Classify(err, CommitInFlight)
	errText := ""
	if err != nil {
		errText = err.Error()
	}
	rec.Complete(inv, out.Type, nil, errText)
	if err != nil {
		return fmt.Errorf("conflict setup: insert keys on %s: %w", nodes[0].Name, err)
	}
	return nil
}

func (c *Conflict) Run(ctx context.Context, cfg RunConfig) (Stats, error) {
	return runClients(ctx, cfg, func(cl *client) stepFunc {
		return func(ctx context.Context) { cl.do(ctx, c.next(cl.process, cl.rng)) }
	})
}

// The writes: each reports how many rows it touched and its xid, in the
// statement that is its transaction.
const (
	conflictInsert = `WITH w AS (INSERT INTO conflict_kv (k, v, writer) VALUES ($1, $2, $3) ON CONFLICT (k) DO NOTHING RETURNING 1)
SELECT count(*), pg_current_xact_id()::text FROM w`
	conflictUpdate = `WITH w AS (UPDATE conflict_kv SET v = $2, writer = $3 WHERE k = $1 RETURNING 1)
SELECT count(*), pg_current_xact_id()::text FROM w`
	conflictDelete = `WITH w AS (DELETE FROM conflict_kv WHERE k = $1 RETURNING 1)
SELECT count(*), pg_current_xact_id()::text FROM w`
	conflictCommitTS = `SELECT pg_xact_commit_timestamp($1::text::xid)`
)

// next picks a write: half updates, a quarter inserts, a quarter deletes
// (updates instead with NoDeletes), on a key drawn uniformly, with a fresh
// value.
func (c *Conflict) next(process string, r *rand.Rand) opSpec {
	key := r.IntN(c.keys())
	value := 1 + r.Int64N(1<<62)
	kind := r.IntN(4)
	if c.NoDeletes && kind == 1 {
		kind = 2 // the delete's share goes to updates
	}
	res := &ConflictValue{Key: key}
	spec := opSpec{Value: ConflictValue{Key: key, Value: &value}, Result: func() any { return res }}
	switch kind {
	case 0:
		spec.F = FConflictInsert
		spec.Exec = conflictWrite(conflictInsert, []any{int32(key), value, process}, key, res)
	case 1:
		spec.F, spec.Value = FConflictDelete, ConflictValue{Key: key}
		spec.Exec = conflictWrite(conflictDelete, []any{int32(key)}, key, res)
	default:
		spec.F = FConflictUpdate
		spec.Exec = conflictWrite(conflictUpdate, []any{int32(key), value, process}, key, res)
	}
	if kind != 1 {
		res.Value = &value
	}
	return spec
}

// conflictWrite runs one write and, once it committed, reads its commit
// timestamp into res. A write that touched no row is no_effect (fail).
func conflictWrite(sql string, args []any, key int, res *ConflictValue) func(context.Context, *pgx.Conn, func()) error {
	return func(ctx context.Context, conn *pgx.Conn, sent func()) error {
		if conn.IsClosed() {
			return pgconn.ErrConnClosed // known before sending: nothing sent
		}
		sent()
		var n int64
		var xid8 string
		if err := conn.QueryRow(ctx, sql, args...).Scan(&n, &xid8); err != nil {
			return err
		}
		if n != 1 {
			return fmt.Errorf("key %d: %d rows touched: %w", key, n, errNoEffect)
		}
		ts, err := commitTimestamp(ctx, conn, xid8)
		if err != nil {
			res.CommitTSError = err.Error()
		} else {
			res.CommitTS = &ts
		}
		return nil
	}
}

// commitTimestamp reads the commit timestamp of the transaction whose
// full id (xid8) is xid8: its low 32 bits are the xid.
func commitTimestamp(ctx context.Context, conn *pgx.Conn, xid8 string) (time.Time, error) {
	full, err := strconv.ParseUint(xid8, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse xid8 %q: %w", xid8, err)
	}
	var ts *time.Time
	if err := conn.QueryRow(ctx, conflictCommitTS, strconv.FormatUint(full&0xffffffff, 10)).Scan(&ts); err != nil {
		return time.Time{}, fmt.Errorf("commit timestamp of xid %s: %w", xid8, err)
	}
	if ts == nil {
		return time.Time{}, fmt.Errorf("commit timestamp of xid %s: none (track_commit_timestamp off?)", xid8)
	}
	return ts.UTC(), nil
}
