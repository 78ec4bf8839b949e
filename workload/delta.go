package workload

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/workload/history"
)

// Delta-counter: delta_counter (k int PRIMARY KEY, n bigint). Setup
// makes n a Spock delta-apply column on every node (ALTER TABLE ...
// ALTER COLUMN n SET (log_old_value=true,
// delta_apply_function=spock.delta_apply), Spock's docs/conflicts.md)
// when each node has spock.delta_apply(int8,int8,int8) and accepts
// the option, inserts counters 0..Keys-1 (4) at 0 and records
// delta-init {keys, delta_apply, reason} ("pglogical has no delta
// apply" there). delta-add adds 1..100 to a counter in one UPDATE.
// The checker is verify's delta-counter.

// DeltaSchema is the delta-counter workload's table (the shared data
// contract). Setup makes n a Spock delta-apply column where it can.
const DeltaSchema = `CREATE TABLE IF NOT EXISTS delta_counter (
  k  int    PRIMARY KEY,
  n  bigint NOT NULL
)`

// Delta-counter op names.
const (
	// FDeltaInit (process "setup") records the counters' start (0) and
	// whether n is a delta-apply column on every node, or why not.
	FDeltaInit = "delta-init"
	// FDeltaAdd adds Delta to counter Key in one UPDATE.
	FDeltaAdd = "delta-add"
)

// deltaApplyOption is Spock's column option for a conflict-free counter
// (docs/conflicts.md: log_old_value and delta_apply_function): a
// subscriber applies local + (new - old) instead of the new value.
const deltaApplyOption = `ALTER TABLE delta_counter ALTER COLUMN n SET (log_old_value=true, delta_apply_function=spock.delta_apply)`

// DeltaCounter has clients on every node add to the same few counters.
// With Spock's delta apply every acknowledged increment counts on every
// node; last-update-wins alone would lose concurrent ones. pglogical has
// no delta apply: the init op says so and the checker is skipped.
type DeltaCounter struct {
	// Keys is the number of counters 0..Keys-1 (default 4).
	Keys int
}

// DeltaInitValue is the Value of delta-init.
type DeltaInitValue struct {
	Keys       int    `json:"keys"`
	DeltaApply bool   `json:"delta_apply"`
	Reason     string `json:"reason,omitempty"`
}

// DeltaValue is the Value of delta-add.
type DeltaValue struct {
	Key   int   `json:"key"`
	Delta int64 `json:"delta"`
}

func (d *DeltaCounter) keys() int {
	if d.Keys <= 0 {
		return 4
	}
	return d.Keys
}

func (d *DeltaCounter) Name() string   { return "delta-counter" }
func (d *DeltaCounter) Schema() string { return DeltaSchema }

// Setup makes n a delta-apply column on every node (when each has
// spock.delta_apply and accepts the option), inserts the counters at 0
// on nodes[0] and records delta-init with what it found.
func (d *DeltaCounter) Setup(ctx context.Context, nodes []Target, rec *history.Recorder) error {
	if len(nodes) == 0 {
		return fmt.Errorf("delta-counter setup: no nodes")
	}
	v := DeltaInitValue{Keys: d.keys(), DeltaApply: true}
	for _, n := range nodes {
		reason, err := enableDeltaApply(ctx, n)
		if err != nil {
			return err
		}
		if reason != "" {
			v.DeltaApply, v.Reason = false, reason
			break
		}
	}
	inv := rec.Invoke("setup", nodes[0].Name, FDeltaInit, v, "")
	err := execOn(ctx, nodes[0], `INSERT INTO delta_counter (k, n) SELECT g, 0 FROM generate_series(0, $1::int - 1) AS g
ON CONFLICT (k) DO NOTHING`, d.keys())
	out := Classify(err, CommitInFlight)
	errText := ""
	if err != nil {
		errText = err.Error()
	}
	rec.Complete(inv, out.Type, v, errText)
	if err != nil {
		return fmt.Errorf("delta-counter setup: insert counters on %s: %w", nodes[0].Name, err)
	}
	return nil
}

// enableDeltaApply sets the delta-apply option on n's counter column. It
// returns why delta apply is not applicable there ("" when it is set),
// or an error when the node could not be asked.
func enableDeltaApply(ctx context.Context, n Target) (string, error) {
	conn, err := pgx.Connect(ctx, n.DSN)
	if err != nil {
		return "", fmt.Errorf("delta-counter setup: connect to %s: %w", n.Name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var spock, pglogical bool
	if err := conn.QueryRow(ctx, `SELECT to_regprocedure('spock.delta_apply(int8,int8,int8)') IS NOT NULL,
  to_regnamespace('pglogical') IS NOT NULL`).Scan(&spock, &pglogical); err != nil {
		return "", fmt.Errorf("delta-counter setup: look up spock.delta_apply on %s: %w", n.Name, err)
	}
	switch {
	case !spock && pglogical:
		return "pglogical has no delta apply", nil
	case !spock:
		return "no spock.delta_apply on " + n.Name, nil
	}
	if _, err := conn.Exec(ctx, deltaApplyOption); err != nil {
		return fmt.Sprintf("%s refuses the delta-apply column option: %v", n.Name, err), nil
	}
	return "", nil
}

func execOn(ctx context.Context, n Target, sql string, args ...any) error {
	conn, err := pgx.Connect(ctx, n.DSN)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql, args...)
	return err
}

func (d *DeltaCounter) Run(ctx context.Context, cfg RunConfig) (Stats, error) {
	return runGenerated(ctx, cfg, d)
}

// generator adds 1..100 to a counter drawn uniformly.
func (d *DeltaCounter) generator(_, _ string) func(string, *rand.Rand) opSpec {
	return func(_ string, r *rand.Rand) opSpec {
		v := DeltaValue{Key: r.IntN(d.keys()), Delta: 1 + r.Int64N(100)}
		return opSpec{F: FDeltaAdd, Value: v,
			Exec: autocommit("UPDATE delta_counter SET n = n + $2 WHERE k = $1", []any{int32(v.Key), v.Delta}, oneRow(v.Key))}
	}
}
