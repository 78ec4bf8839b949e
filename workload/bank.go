package workload

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/jackc/pgx/v5"

	"github.com/spockchaos/spockchaos/workload/history"
)

// Bank: owner i (node order) owns accounts i*A..i*A+A-1; a client
// transfers between accounts of the node it talks to. "bank-init" is
// recorded as an invoke and an ok by process "setup".

// BankSchema is the bank table (the shared data contract).
const BankSchema = `CREATE TABLE IF NOT EXISTS bank_accounts (
  id      int    PRIMARY KEY,
  owner   text   NOT NULL,
  balance bigint NOT NULL
)`

// Bank op names.
const (
	FTransfer = "transfer"
	FBankInit = "bank-init"
)

// Bank gives every node the same number of accounts with the same balance;
// a client moves money between two accounts of the node it talks to (their
// owner), in one transaction, so the total per owner never changes.
// Account ids: owner i (0-based, in node order) owns i*A .. i*A+A-1.
type Bank struct {
	// AccountsPerOwner is A (default 10).
	AccountsPerOwner int
	// InitialBalance is every account's starting balance (default 1000).
	InitialBalance int64
	// MaxAmount bounds a transfer (default 10).
	MaxAmount int64

	owners []string
}

// BankInitValue is the Value of the "bank-init" op.
type BankInitValue struct {
	AccountsPerOwner int      `json:"accounts_per_owner"`
	InitialBalance   int64    `json:"initial_balance"`
	Owners           []string `json:"owners"`
}

// TransferValue is the Value of a transfer op.
type TransferValue struct {
	Owner  string `json:"owner"`
	From   int    `json:"from"`
	To     int    `json:"to"`
	Amount int64  `json:"amount"`
}

func (b *Bank) accounts() int {
	if b.AccountsPerOwner <= 1 {
		return 10
	}
	return b.AccountsPerOwner
}

func (b *Bank) balance() int64 {
	if b.InitialBalance <= 0 {
		return 1000
	}
	return b.InitialBalance
}

func (b *Bank) maxAmount() int64 {
	if b.MaxAmount <= 0 {
		return 10
	}
	return b.MaxAmount
}

func (b *Bank) Name() string   { return "bank" }
func (b *Bank) Schema() string { return BankSchema }

// Setup inserts every owner's accounts on nodes[0] in one transaction and
// records the op "bank-init" (process "setup", invoke then ok).
func (b *Bank) Setup(ctx context.Context, nodes []Target, rec *history.Recorder) error {
	if len(nodes) == 0 {
		return fmt.Errorf("bank setup: no nodes")
	}
	b.owners = NodeNames(nodes)
	value := BankInitValue{AccountsPerOwner: b.accounts(), InitialBalance: b.balance(), Owners: b.owners}
	inv := rec.Invoke("setup", nodes[0].Name, FBankInit, value, "")
	err := b.insertAccounts(ctx, nodes[0])
	out := Classify(err, CommitInFlight)
	errText := ""
	if err != nil {
		errText = err.Error()
	}
	rec.Complete(inv, out.Type, nil, errText)
	if err != nil {
		return fmt.Errorf("bank setup on %s: %w", nodes[0].Name, err)
	}
	return nil
}

func (b *Bank) insertAccounts(ctx context.Context, node Target) error {
	conn, err := pgx.Connect(ctx, node.DSN)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var ids []int32
	var owners []string
	for i, owner := range b.owners {
		for a := range b.accounts() {
			ids = append(ids, int32(i*b.accounts()+a))
			owners = append(owners, owner)
		}
	}
	_, err = conn.Exec(ctx, `INSERT INTO bank_accounts (id, owner, balance)
SELECT id, owner, $3 FROM unnest($1::int[], $2::text[]) AS t(id, owner)`, ids, owners, b.balance())
	return err
}

// bankTransfer moves $3 from $1 to $2 in one statement (one transaction):
// both rows or neither (the count guard: a half transfer would break the
// invariant while being reported as failed).
const bankTransfer = `UPDATE bank_accounts
SET balance = balance + CASE WHEN id = $1 THEN -$3::bigint ELSE $3::bigint END
WHERE id IN ($1, $2) AND owner = $4
  AND (SELECT count(*) FROM bank_accounts WHERE id IN ($1, $2) AND owner = $4) = 2`

func (b *Bank) Run(ctx context.Context, cfg RunConfig) (Stats, error) {
	if b.owners == nil {
		b.owners = NodeNames(cfg.Nodes)
	}
	return runClients(ctx, cfg, func(c *client) stepFunc {
		return func(ctx context.Context) { c.do(ctx, b.next(c.node().Name, c.rng)) }
	})
}

// next picks a transfer between two accounts of owner (the client's node).
func (b *Bank) next(owner string, r *rand.Rand) opSpec {
	base := 0
	for i, o := range b.owners {
		if o == owner {
			base = i * b.accounts()
		}
	}
	from := base + r.IntN(b.accounts())
	to := base + r.IntN(b.accounts()-1)
	if to >= from {
		to++
	}
	amount := 1 + r.Int64N(b.maxAmount())
	return opSpec{
		F:     FTransfer,
		Value: TransferValue{Owner: owner, From: from, To: to, Amount: amount},
		Exec: autocommit(bankTransfer, []any{int32(from), int32(to), amount, owner}, func(_ string, rows int64) error {
			if rows != 2 {
				return fmt.Errorf("transfer touched %d accounts, want 2: %w", rows, errNoEffect)
			}
			return nil
		}),
	}
}
