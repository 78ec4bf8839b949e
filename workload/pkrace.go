package workload

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/workload/history"
)

// PK-race: pk_kv (k int PRIMARY KEY, v, writer), keys 0..Keys-1
// (12), Setup fills the first half (not recorded). 30% pk-move (an
// UPDATE that changes k to another key: unique_violation if taken),
// 30% pk-update, 20% pk-delete, 20% pk-insert (ON CONFLICT DO
// NOTHING); an op on a missing key is no_effect. Judged by
// convergence, which names the keys. Measured on pglogical 2: a
// remote move or insert onto a key another node wrote fails its apply
// with a duplicate key on pk_kv_pkey every retry, so the subscription
// stays down (the workload spec runs it from one node only).

// PKRaceSchema is the pk-race workload's table (the shared data contract).
const PKRaceSchema = `CREATE TABLE IF NOT EXISTS pk_kv (
  k      int    PRIMARY KEY,
  v      bigint NOT NULL,
  writer text   NOT NULL
)`

// PK-race op names. Every op is one autocommit statement on one key.
const (
	FPKMove   = "pk-move"   // UPDATE that changes the primary key from Key to To
	FPKUpdate = "pk-update" // UPDATE of v on Key
	FPKDelete = "pk-delete" // DELETE of Key
	FPKInsert = "pk-insert" // INSERT of Key if absent
)

// PKRace has clients on every node change the primary key of the same few
// rows, update them and delete them at once: a row moved on one node is
// updated or deleted under its old key on another, and replication must
// resolve update-versus-delete and update-versus-move races. Judged by
// convergence, which names the keys.
type PKRace struct {
	// Keys is the key space 0..Keys-1 (default 12); Setup fills half.
	Keys int
}

// PKValue is the Value of a pk-race op: the key it acts on, the new key
// of a move, the value it writes (none for a delete).
type PKValue struct {
	Key   int   `json:"key"`
	To    *int  `json:"to,omitempty"`
	Value int64 `json:"value,omitempty"`
}

func (p *PKRace) keys() int {
	if p.Keys <= 1 {
		return 12
	}
	return p.Keys
}

func (p *PKRace) Name() string   { return "pk-race" }
func (p *PKRace) Schema() string { return PKRaceSchema }

// Setup inserts keys 0..Keys/2-1 (v 0, writer "setup") on nodes[0], not
// recorded: convergence judges this workload.
func (p *PKRace) Setup(ctx context.Context, nodes []Target, _ *history.Recorder) error {
	if len(nodes) == 0 {
		return fmt.Errorf("pk-race setup: no nodes")
	}
	conn, err := pgx.Connect(ctx, nodes[0].DSN)
	if err != nil {
		return fmt.Errorf("pk-race setup: connect to %s: %w", nodes[0].Name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, `INSERT INTO pk_kv (k, v, writer) SELECT g, 0, 'setup' FROM generate_series(0, $1::int - 1) AS g
ON CONFLICT (k) DO NOTHING`, p.keys()/2)
	if err != nil {
		return fmt.Errorf("pk-race setup: insert keys on %s: %w", nodes[0].Name, err)
	}
	return nil
}

func (p *PKRace) Run(ctx context.Context, cfg RunConfig) (Stats, error) {
	return runGenerated(ctx, cfg, p)
}

// generator draws 30% moves, 30% updates, 20% deletes and 20% inserts,
// on keys drawn uniformly (a move to another key). A move onto a key that
// exists is a unique violation (fail); an op on a missing key no_effect.
func (p *PKRace) generator(_, process string) func(string, *rand.Rand) opSpec {
	return func(_ string, r *rand.Rand) opSpec {
		key := r.IntN(p.keys())
		v := PKValue{Key: key, Value: 1 + r.Int64N(1<<48)}
		switch kind := r.IntN(10); {
		case kind < 3:
			to := (key + 1 + r.IntN(p.keys()-1)) % p.keys()
			v.To = &to
			return opSpec{F: FPKMove, Value: v, Exec: autocommit("UPDATE pk_kv SET k = $2, v = $3, writer = $4 WHERE k = $1",
				[]any{int32(key), int32(to), v.Value, process}, oneRow(key))}
		case kind < 6:
			return opSpec{F: FPKUpdate, Value: v, Exec: autocommit("UPDATE pk_kv SET v = $2, writer = $3 WHERE k = $1",
				[]any{int32(key), v.Value, process}, oneRow(key))}
		case kind < 8:
			return opSpec{F: FPKDelete, Value: PKValue{Key: key}, Exec: autocommit("DELETE FROM pk_kv WHERE k = $1", []any{int32(key)}, oneRow(key))}
		}
		return opSpec{F: FPKInsert, Value: v, Exec: autocommit("INSERT INTO pk_kv (k, v, writer) VALUES ($1, $2, $3) ON CONFLICT (k) DO NOTHING",
			[]any{int32(key), v.Value, process}, oneRow(key))}
	}
}
