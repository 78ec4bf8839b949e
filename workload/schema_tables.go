package workload

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The schema-features tables (the shared data contract, read by verify).
//
// gen_kv's g and h are STORED generated columns of a and b: every node
// computes them itself (verify checks g = a*31 + length(b) and
// h = md5(b || ':' || a) on every node). part_kv is RANGE partitioned on
// p into PartCount partitions part_kv_<p/PartRange>; its primary key must
// hold p, so a row moves between partitions by an UPDATE of p. trunc_kv
// is written and truncated by one node (the owner) only, so its rows and
// truncates reach every peer in one commit order; trunc_side is written
// by every node meanwhile. seq_kv's key comes from a sequence with a
// per-node offset (Setup).
var schemaFeatureSQL = map[string]string{
	FeatureGenerated: `CREATE TABLE IF NOT EXISTS gen_kv (
  k      int    PRIMARY KEY,
  a      bigint NOT NULL,
  b      text   NOT NULL,
  writer text   NOT NULL,
  g      bigint GENERATED ALWAYS AS (a * 31 + length(b)) STORED,
  h      text   GENERATED ALWAYS AS (md5(b || ':' || a::text)) STORED
)`,
	FeaturePartitioned: `CREATE TABLE IF NOT EXISTS part_kv (
  k      int    NOT NULL,
  p      int    NOT NULL,
  v      bigint NOT NULL,
  writer text   NOT NULL,
  PRIMARY KEY (k, p)
) PARTITION BY RANGE (p);
CREATE TABLE IF NOT EXISTS part_kv_0 PARTITION OF part_kv FOR VALUES FROM (0) TO (100);
CREATE TABLE IF NOT EXISTS part_kv_1 PARTITION OF part_kv FOR VALUES FROM (100) TO (200);
CREATE TABLE IF NOT EXISTS part_kv_2 PARTITION OF part_kv FOR VALUES FROM (200) TO (300)`,
	FeatureForeignKey: `CREATE TABLE IF NOT EXISTS fk_parent (
  id     int    PRIMARY KEY,
  writer text   NOT NULL
);
CREATE TABLE IF NOT EXISTS fk_child (
  id        bigint PRIMARY KEY,
  parent_id int    NOT NULL REFERENCES fk_parent (id) ON DELETE CASCADE,
  writer    text   NOT NULL
)`,
	FeatureTruncate: `CREATE TABLE IF NOT EXISTS trunc_kv (
  k      bigint PRIMARY KEY,
  writer text   NOT NULL
);
CREATE TABLE IF NOT EXISTS trunc_side (
  k      bigint PRIMARY KEY,
  writer text   NOT NULL
)`,
	FeatureSequence: `CREATE SEQUENCE IF NOT EXISTS seq_kv_k_seq;
CREATE TABLE IF NOT EXISTS seq_kv (
  k      bigint PRIMARY KEY DEFAULT nextval('seq_kv_k_seq'),
  txn    text   NOT NULL,
  writer text   NOT NULL
)`,
}

// part_kv's layout: PartCount partitions of PartRange values of p each.
const (
	PartRange = 100
	PartCount = 3
)

// Schema-features op names. Every op is one autocommit statement.
const (
	FGenSet         = "gen-set"          // upsert of a and b on Key
	FGenAdd         = "gen-add"          // a += Add on Key (b unchanged)
	FGenDelete      = "gen-delete"       // delete of Key
	FPartMove       = "part-move"        // UPDATE of p (and v) on Key: to another partition, usually
	FPartUpdate     = "part-update"      // UPDATE of v on Key
	FPartInsert     = "part-insert"      // INSERT of (Key, P) if absent
	FPartDelete     = "part-delete"      // DELETE of Key
	FFKParent       = "fk-parent"        // INSERT of parent Parent if absent
	FFKChild        = "fk-child"         // INSERT of a fresh child of Parent
	FFKDelete       = "fk-delete"        // DELETE of parent Parent (ON DELETE CASCADE)
	FFKDeleteFamily = "fk-delete-family" // DELETE of Parent's children, then Parent, in one statement
	FTruncInsert    = "trunc-insert"     // INSERT of a fresh key into trunc_kv (owner only)
	FTruncate       = "trunc-truncate"   // TRUNCATE trunc_kv (owner only)
	FTruncSide      = "trunc-side"       // INSERT of a fresh key into trunc_side
	FSeqInsert      = "seq-insert"       // INSERT into seq_kv, key from the sequence
)

// GenValue is the Value of a gen op.
type GenValue struct {
	Key int    `json:"key"`
	A   int64  `json:"a,omitempty"`
	B   string `json:"b,omitempty"`
	Add int64  `json:"add,omitempty"`
}

// PartValue is the Value of a part op (P: the new partition key).
type PartValue struct {
	Key int   `json:"key"`
	P   *int  `json:"p,omitempty"`
	V   int64 `json:"v,omitempty"`
}

// FKValue is the Value of an fk op (Child: a new child's id).
type FKValue struct {
	Parent int   `json:"parent"`
	Child  int64 `json:"child,omitempty"`
}

// KeyValue is the Value of trunc-insert, trunc-side and (as the ok
// completion's result) seq-insert: the key written.
type KeyValue struct {
	K int64 `json:"k,omitempty"`
}

// genOp: 40% upserts, 40% increments of a alone, 20% deletes of key.
func genOp(process string, key int, r *rand.Rand) opSpec {
	switch kind := r.IntN(10); {
	case kind < 4:
		v := GenValue{Key: key, A: r.Int64N(1 << 40), B: fmt.Sprintf("%s-%x", process, r.Uint64()>>r.IntN(48))}
		return opSpec{F: FGenSet, Value: v, Exec: autocommit(`INSERT INTO gen_kv (k, a, b, writer) VALUES ($1, $2, $3, $4)
ON CONFLICT (k) DO UPDATE SET a = EXCLUDED.a, b = EXCLUDED.b, writer = EXCLUDED.writer`,
			[]any{int32(key), v.A, v.B, process}, nil)}
	case kind < 8:
		v := GenValue{Key: key, Add: 1 + r.Int64N(1000)}
		return opSpec{F: FGenAdd, Value: v, Exec: autocommit("UPDATE gen_kv SET a = a + $2, writer = $3 WHERE k = $1",
			[]any{int32(key), v.Add, process}, oneRow(key))}
	}
	return opSpec{F: FGenDelete, Value: GenValue{Key: key}, Exec: autocommit("DELETE FROM gen_kv WHERE k = $1", []any{int32(key)}, oneRow(key))}
}

// partOp: 40% moves (p drawn over every partition), 25% updates, 20%
// inserts, 15% deletes, of key. The primary key is (k, p), so an insert
// may add a second row of k: ops on a key touch all of them.
func partOp(process string, key int, r *rand.Rand) opSpec {
	p := r.IntN(PartRange * PartCount)
	v := PartValue{Key: key, P: &p, V: 1 + r.Int64N(1<<48)}
	switch kind := r.IntN(20); {
	case kind < 8:
		return opSpec{F: FPartMove, Value: v, Exec: autocommit("UPDATE part_kv SET p = $2, v = $3, writer = $4 WHERE k = $1",
			[]any{int32(key), int32(p), v.V, process}, atLeastOne(fmt.Sprintf("key %d", key)))}
	case kind < 13:
		v.P = nil
		return opSpec{F: FPartUpdate, Value: v, Exec: autocommit("UPDATE part_kv SET v = $2, writer = $3 WHERE k = $1",
			[]any{int32(key), v.V, process}, atLeastOne(fmt.Sprintf("key %d", key)))}
	case kind < 17:
		return opSpec{F: FPartInsert, Value: v, Exec: autocommit("INSERT INTO part_kv (k, p, v, writer) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
			[]any{int32(key), int32(p), v.V, process}, oneRow(key))}
	}
	return opSpec{F: FPartDelete, Value: PartValue{Key: key}, Exec: autocommit("DELETE FROM part_kv WHERE k = $1",
		[]any{int32(key)}, atLeastOne(fmt.Sprintf("key %d", key)))}
}

// fkOp: 25% inserts of own, 45% inserts of children of any node's
// parent (a missing parent is a foreign_key_violation: fail), and with
// deletes 15% cascading deletes of own, 15% deletes of its children then
// itself in one statement (else child inserts instead).
func fkOp(process, id string, own, anyParent int, deletes bool, r *rand.Rand) opSpec {
	parent := own
	kind := r.IntN(20)
	if !deletes && kind >= 14 {
		kind = 5
	}
	switch {
	case kind < 5:
		return opSpec{F: FFKParent, Value: FKValue{Parent: parent}, Exec: autocommit(
			"INSERT INTO fk_parent (id, writer) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING", []any{int32(parent), process}, oneRow(parent))}
	case kind < 14:
		child, parent := UniqKey(id), anyParent
		return opSpec{F: FFKChild, Value: FKValue{Parent: parent, Child: child}, TxnID: id, Exec: autocommit(
			"INSERT INTO fk_child (id, parent_id, writer) VALUES ($1, $2, $3)", []any{child, int32(parent), process}, nil)}
	case kind < 17:
		return opSpec{F: FFKDelete, Value: FKValue{Parent: parent}, Exec: autocommit(
			"DELETE FROM fk_parent WHERE id = $1", []any{int32(parent)}, oneRow(parent))}
	}
	return opSpec{F: FFKDeleteFamily, Value: FKValue{Parent: parent}, Exec: autocommit(
		"WITH c AS (DELETE FROM fk_child WHERE parent_id = $1) DELETE FROM fk_parent WHERE id = $1", []any{int32(parent)}, oneRow(parent))}
}

// truncOp: on the owner 75% trunc_kv inserts, 5% truncates, 20%
// trunc_side inserts; elsewhere trunc_side inserts only.
func truncOp(process, id string, owner bool, r *rand.Rand) opSpec {
	k := UniqKey(id)
	kind := r.IntN(20)
	switch {
	case owner && kind < 15:
		return opSpec{F: FTruncInsert, Value: KeyValue{K: k}, TxnID: id, Exec: autocommit(
			"INSERT INTO trunc_kv (k, writer) VALUES ($1, $2)", []any{k, process}, nil)}
	case owner && kind < 16:
		return opSpec{F: FTruncate, Value: KeyValue{}, Exec: autocommit("TRUNCATE trunc_kv", nil, nil)}
	}
	return opSpec{F: FTruncSide, Value: KeyValue{K: k}, TxnID: id, Exec: autocommit(
		"INSERT INTO trunc_side (k, writer) VALUES ($1, $2)", []any{k, process}, nil)}
}

// seqOp inserts a row keyed by the node's sequence; the ok completion
// carries the key it got.
func seqOp(process, id string) opSpec {
	res := &KeyValue{}
	return opSpec{F: FSeqInsert, Value: KeyValue{}, TxnID: id, Result: func() any { return res },
		Exec: func(ctx context.Context, conn *pgx.Conn, sent func()) error {
			if conn.IsClosed() {
				return pgconn.ErrConnClosed // known before sending: nothing sent
			}
			sent()
			return conn.QueryRow(ctx, "INSERT INTO seq_kv (txn, writer) VALUES ($1, $2) RETURNING k", id, process).Scan(&res.K)
		}}
}
