package workload

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"

	"github.com/spockchaos/spockchaos/workload/history"
)

// Unique-conflict: uniq_kv (k bigint PRIMARY KEY, u int UNIQUE,
// writer). uniq-insert writes a fresh key (UniqKey of its TxnID, 53
// bits) with a unique value from a pool of Values (6) every node draws
// from; uniq-delete deletes the row holding a value (no_effect when
// none). "unique-conflict-no-delete" only inserts, drawing from the
// pool of the current 100 ms wall-clock window (Plan fixes the clock),
// so values are never reused. A local unique violation is fail. The
// checker is verify's unique-conflict. Measured on pglogical 2: it
// resolves a remote insert that meets another key's unique value by
// last-update-wins, overwriting the local row (its key too); inserts
// alone converge (650 raced values, crash-restart, seed 8), but with
// deletes a key overwritten on one node and deleted or kept elsewhere
// leaves nodes holding different keys for a value (3 of 5 values in
// the workload spec's 5 s; unique-conflict-crash-restart-like runs
// failed on 2 seeds of 4), as pglogical's source warns
// (pglogical_tuple_find_conflict: "not wholly safe"). Its apply also
// errs now and then with a duplicate key on the unique index (two
// inserts of one value checked before either was written); the worker
// restarts and the retry resolves it. Spock resolves secondary unique
// conflicts only with spock.check_all_uc_indexes on (experimental,
// default off: the apply errs, docs/limitations.md).

// UniqSchema is the unique-conflict workload's table (the shared data
// contract): a primary key and a secondary UNIQUE column.
const UniqSchema = `CREATE TABLE IF NOT EXISTS uniq_kv (
  k      bigint PRIMARY KEY,
  u      int    NOT NULL,
  writer text   NOT NULL,
  CONSTRAINT uniq_kv_u_key UNIQUE (u)
)`

// Unique-conflict op names. Every op is one autocommit statement.
const (
	// FUniqInsert inserts a fresh primary key (TxnID names it) with a
	// unique value drawn from a small pool every node draws from.
	FUniqInsert = "uniq-insert"
	// FUniqDelete deletes the row holding a unique value, freeing it.
	FUniqDelete = "uniq-delete"
)

// UniqueConflict has clients on every node insert rows with fresh
// primary keys but unique values from one small pool, and delete rows by
// unique value to free them: two nodes often insert different keys with
// the same unique value before either sees the other's, and replication
// must resolve an insert that violates the secondary unique constraint.
type UniqueConflict struct {
	// Values is the pool of unique values 0..Values-1 (default 6).
	Values int
	// NoDeletes inserts only ("unique-conflict-no-delete"): each insert
	// draws its unique value from the pool of the current 100 ms window
	// of the wall clock (window*Values + 0..Values-1), so values are never
	// freed and reused. Measured on pglogical 2: with deletes, a key that
	// lost an insert conflict on one node (its row overwritten by the
	// winner's) and was deleted or won elsewhere leaves the nodes holding
	// different keys for a value; inserts alone converge.
	NoDeletes bool

	// clock is the wall clock of NoDeletes windows (Plan fixes it).
	clock func() time.Time
}

// UniqValue is the Value of a unique-conflict op: the unique value, and
// for an insert the primary key it writes.
type UniqValue struct {
	U int   `json:"u"`
	K int64 `json:"k,omitempty"`
}

func (w *UniqueConflict) values() int {
	if w.Values <= 0 {
		return 6
	}
	return w.Values
}

func (w *UniqueConflict) Name() string {
	if w.NoDeletes {
		return "unique-conflict-no-delete"
	}
	return "unique-conflict"
}
func (w *UniqueConflict) Schema() string { return UniqSchema }

// Setup does nothing: the table starts empty.
func (w *UniqueConflict) Setup(context.Context, []Target, *history.Recorder) error { return nil }

func (w *UniqueConflict) Run(ctx context.Context, cfg RunConfig) (Stats, error) {
	return runGenerated(ctx, cfg, w)
}

// generator draws half inserts (a new key, named by the op's TxnID and
// its hash) and half deletes, each on a unique value of the pool.
func (w *UniqueConflict) generator(prefix, process string) func(string, *rand.Rand) opSpec {
	n := 0
	return func(_ string, r *rand.Rand) opSpec {
		u := r.IntN(w.values())
		if w.NoDeletes {
			u += w.window() * w.values()
		} else if r.IntN(2) == 0 {
			return opSpec{F: FUniqDelete, Value: UniqValue{U: u},
				Exec: autocommit("DELETE FROM uniq_kv WHERE u = $1", []any{int32(u)}, oneRow(u))}
		}
		n++
		id := fmt.Sprintf("%s%s-%d", prefix, process, n)
		k := UniqKey(id)
		return opSpec{F: FUniqInsert, Value: UniqValue{U: u, K: k}, TxnID: id,
			Exec: autocommit("INSERT INTO uniq_kv (k, u, writer) VALUES ($1, $2, $3)", []any{k, int32(u), process}, nil)}
	}
}

// window is the number of the current 100 ms window, modulo 10^8 (so
// that window*Values fits an int4 for pools up to 21 values).
func (w *UniqueConflict) window() int {
	now := time.Now
	if w.clock != nil {
		now = w.clock
	}
	return int(now().UnixMilli()/100) % 100_000_000
}

// UniqKey is the primary key an insert with transaction id id writes: a
// positive 53-bit hash of it (fresh per run prefix, never reused; 53 bits
// survive JSON readers that hold numbers as float64).
func UniqKey(id string) int64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return int64(h.Sum64() >> 11)
}
