package workload

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/spockchaos/spockchaos/workload/history"
)

// LedgerSchema is the ledger table (the shared data contract).
const LedgerSchema = `CREATE TABLE IF NOT EXISTS ledger (
  txn_id  text NOT NULL,
  seq     int  NOT NULL,
  origin  text NOT NULL,
  payload text NOT NULL,
  PRIMARY KEY (txn_id, seq)
)`

// Ledger ops: F "ledger-txn", TxnID the new txn_id, Value {"rows": K}.
const FLedgerTxn = "ledger-txn"

// ledgerInsert writes rows 1..$4 of one txn in one statement, which is one
// transaction: one round trip per op.
const ledgerInsert = `INSERT INTO ledger (txn_id, seq, origin, payload)
SELECT $1, g, $2, $3 FROM generate_series(1, $4::int) AS g`

// Ledger inserts, per op, Rows rows (seq 1..Rows) of a new transaction id
// in one transaction. It needs no setup. Checkers use it for durability and
// atomicity: every ok txn must have all its rows on every survivor.
type Ledger struct {
	// Rows is K, the rows per transaction (default 5).
	Rows int
}

// LedgerValue is the Value of a ledger op.
type LedgerValue struct {
	Rows int `json:"rows"`
}

func (l *Ledger) rows() int {
	if l.Rows <= 0 {
		return 5
	}
	return l.Rows
}

func (l *Ledger) Name() string   { return "ledger" }
func (l *Ledger) Schema() string { return LedgerSchema }

// Setup does nothing: the ledger starts empty.
func (l *Ledger) Setup(context.Context, []Target, *history.Recorder) error { return nil }

func (l *Ledger) Run(ctx context.Context, cfg RunConfig) (Stats, error) {
	return runGenerated(ctx, cfg, l)
}

// generator numbers the client's transactions; ids are
// <prefix><process>-<n>, unique per run prefix.
func (l *Ledger) generator(prefix, process string) func(node string, r *rand.Rand) opSpec {
	n := 0
	k := l.rows()
	return func(node string, r *rand.Rand) opSpec {
		n++
		id := fmt.Sprintf("%s%s-%d", prefix, process, n)
		payload := randomText(r, 16)
		return opSpec{
			F: FLedgerTxn, Value: LedgerValue{Rows: k}, TxnID: id,
			Exec: autocommit(ledgerInsert, []any{id, node, payload, k}, nil),
		}
	}
}
