package verify

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Observation is the final state of the workload tables on the nodes,
// captured after a run so that the history checkers can re-run on stored
// artifacts (spockchaos check DIR) with no cluster. It is plain JSON.
type Observation struct {
	CapturedAt time.Time `json:"captured_at"`
	// Nodes lists the observed nodes in order.
	Nodes []string `json:"nodes"`
	// PerNode maps a node to what it held, each node read in one snapshot.
	PerNode map[string]*NodeObservation `json:"per_node"`
	// Exceptions is what the exception-audit checker read (nil when it
	// did not run).
	Exceptions *ExceptionCapture `json:"exceptions,omitempty"`
	// WAL is what the double-apply checker read (nil when it did not run).
	WAL *WALCapture `json:"wal,omitempty"`
}

// NodeObservation is one node's workload state. A nil field means the
// node has no such table.
type NodeObservation struct {
	// Ledger maps txn_id -> number of ledger rows present.
	Ledger map[string]int `json:"ledger"`
	// Bank summarises bank_accounts per owner.
	Bank *BankObservation `json:"bank"`
	// Hotkey holds every hotkey row, ordered by key.
	Hotkey []HotkeyRow `json:"hotkey"`
	// Conflict holds every conflict_kv row with its commit timestamp,
	// ordered by key.
	Conflict []ConflictRow `json:"conflict,omitempty"`
	// Uniq holds every uniq_kv row (unique-conflict workload), ordered
	// by its unique value.
	Uniq []UniqRow `json:"uniq,omitempty"`
	// Delta holds every delta_counter row (delta-counter workload),
	// ordered by key.
	Delta []DeltaRow `json:"delta,omitempty"`
	// Schema holds the schema-features tables (nil: none of them).
	Schema *SchemaObservation `json:"schema,omitempty"`
	// Tiebreakers are the Spock nodes' last-update-wins tiebreakers by
	// node name (spock.node: info's "tiebreaker", else node_id; lower
	// wins a commit-timestamp tie); nil without Spock.
	Tiebreakers map[string]int64 `json:"tiebreakers,omitempty"`
}

// ConflictRow is one row of conflict_kv and its commit timestamp
// (pg_xact_commit_timestamp(xmin); nil when unknown).
type ConflictRow struct {
	K        int        `json:"k"`
	V        int64      `json:"v"`
	Writer   string     `json:"writer"`
	CommitTS *time.Time `json:"commit_ts,omitempty"`
}

// UniqRow is one row of uniq_kv: primary key k, unique value u, and the
// commit time of its version (pg_xact_commit_timestamp(xmin): on a
// subscriber, the origin's commit time of the change it applied; nil
// when unknown).
type UniqRow struct {
	K        int64      `json:"k"`
	U        int        `json:"u"`
	Writer   string     `json:"writer"`
	CommitTS *time.Time `json:"commit_ts,omitempty"`
}

// DeltaRow is one counter of delta_counter.
type DeltaRow struct {
	K int   `json:"k"`
	N int64 `json:"n"`
}

// BankObservation is bank_accounts summed per owner.
type BankObservation struct {
	Rows     int64            `json:"rows"`
	Totals   map[string]int64 `json:"totals"`
	Accounts map[string]int64 `json:"accounts"`
}

// HotkeyRow is one row of hotkey.
type HotkeyRow struct {
	K      int    `json:"k"`
	V      int64  `json:"v"`
	Writer string `json:"writer"`
}

// Observe captures the workload tables (ledger, bank_accounts, hotkey, as
// found on the search path) of every target, each in one snapshot.
func Observe(ctx context.Context, targets []Target) (*Observation, error) {
	snaps, err := openSnapshots(ctx, targets)
	if err != nil {
		return nil, err
	}
	defer closeSnapshots(snaps)
	obs := &Observation{CapturedAt: time.Now().UTC(), PerNode: map[string]*NodeObservation{}}
	per := make([]*NodeObservation, len(snaps))
	err = onEachSnapshot(ctx, snaps, func(ctx context.Context, i int, s *snapshot) error {
		no, err := observeNode(ctx, s)
		per[i] = no
		return err
	})
	if err != nil {
		return nil, err
	}
	for i, t := range targets {
		obs.Nodes = append(obs.Nodes, t.Name)
		obs.PerNode[t.Name] = per[i]
	}
	return obs, nil
}

func observeNode(ctx context.Context, s *snapshot) (*NodeObservation, error) {
	no := &NodeObservation{}
	exists := func(table string) (bool, error) {
		var ok bool
		err := s.tx.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", table).Scan(&ok)
		if err != nil {
			return false, fmt.Errorf("look up table %s on %s: %w", table, s.target.Name, err)
		}
		return ok, nil
	}
	if ok, err := exists("ledger"); err != nil {
		return nil, err
	} else if ok {
		no.Ledger = map[string]int{}
		rows, err := s.tx.Query(ctx, "SELECT txn_id, count(*) FROM ledger GROUP BY txn_id")
		if err != nil {
			return nil, fmt.Errorf("read ledger on %s: %w", s.target.Name, err)
		}
		for rows.Next() {
			var id string
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read ledger on %s: %w", s.target.Name, err)
			}
			no.Ledger[id] = n
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read ledger on %s: %w", s.target.Name, err)
		}
	}
	if ok, err := exists("bank_accounts"); err != nil {
		return nil, err
	} else if ok {
		b := &BankObservation{Totals: map[string]int64{}, Accounts: map[string]int64{}}
		rows, err := s.tx.Query(ctx, "SELECT owner, count(*), sum(balance)::bigint FROM bank_accounts GROUP BY owner")
		if err != nil {
			return nil, fmt.Errorf("read bank_accounts on %s: %w", s.target.Name, err)
		}
		for rows.Next() {
			var owner string
			var n, total int64
			if err := rows.Scan(&owner, &n, &total); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read bank_accounts on %s: %w", s.target.Name, err)
			}
			b.Accounts[owner], b.Totals[owner] = n, total
			b.Rows += n
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read bank_accounts on %s: %w", s.target.Name, err)
		}
		no.Bank = b
	}
	if ok, err := exists("hotkey"); err != nil {
		return nil, err
	} else if ok {
		no.Hotkey = []HotkeyRow{}
		rows, err := s.tx.Query(ctx, "SELECT k, v, writer FROM hotkey ORDER BY k")
		if err != nil {
			return nil, fmt.Errorf("read hotkey on %s: %w", s.target.Name, err)
		}
		for rows.Next() {
			var r HotkeyRow
			if err := rows.Scan(&r.K, &r.V, &r.Writer); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read hotkey on %s: %w", s.target.Name, err)
			}
			no.Hotkey = append(no.Hotkey, r)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read hotkey on %s: %w", s.target.Name, err)
		}
	}
	if ok, err := exists("conflict_kv"); err != nil {
		return nil, err
	} else if ok {
		rows, err := s.tx.Query(ctx, "SELECT k, v, writer, pg_xact_commit_timestamp(xmin) FROM conflict_kv ORDER BY k")
		if err != nil {
			return nil, fmt.Errorf("read conflict_kv on %s: %w", s.target.Name, err)
		}
		no.Conflict = []ConflictRow{}
		var r ConflictRow
		if _, err := pgx.ForEachRow(rows, []any{&r.K, &r.V, &r.Writer, &r.CommitTS}, func() error {
			no.Conflict = append(no.Conflict, r)
			return nil
		}); err != nil {
			return nil, fmt.Errorf("read conflict_kv on %s: %w", s.target.Name, err)
		}
	}
	if ok, err := exists("uniq_kv"); err != nil {
		return nil, err
	} else if ok {
		if no.Uniq, err = observeUniq(ctx, s); err != nil {
			return nil, err
		}
	}
	if ok, err := exists("delta_counter"); err != nil {
		return nil, err
	} else if ok {
		if no.Delta, err = observeDelta(ctx, s); err != nil {
			return nil, err
		}
	}
	var err error
	if no.Schema, err = observeSchema(ctx, s); err != nil {
		return nil, err
	}
	if ok, err := exists("spock.node"); err != nil {
		return nil, err
	} else if ok {
		// to_jsonb: the info column is not in every Spock version.
		rows, err := s.tx.Query(ctx, "SELECT node_name::text, coalesce((to_jsonb(n)->'info'->>'tiebreaker')::bigint, node_id::bigint) FROM spock.node n")
		if err != nil {
			return nil, fmt.Errorf("read spock.node on %s: %w", s.target.Name, err)
		}
		no.Tiebreakers = map[string]int64{}
		var name string
		var tb int64
		if _, err := pgx.ForEachRow(rows, []any{&name, &tb}, func() error { no.Tiebreakers[name] = tb; return nil }); err != nil {
			return nil, fmt.Errorf("read spock.node on %s: %w", s.target.Name, err)
		}
	}
	return no, nil
}

func observeUniq(ctx context.Context, s *snapshot) ([]UniqRow, error) {
	rows, err := s.tx.Query(ctx, "SELECT k, u, writer, pg_xact_commit_timestamp(xmin) FROM uniq_kv ORDER BY u")
	if err != nil {
		return nil, fmt.Errorf("read uniq_kv on %s: %w", s.target.Name, err)
	}
	out := []UniqRow{}
	var r UniqRow
	if _, err := pgx.ForEachRow(rows, []any{&r.K, &r.U, &r.Writer, &r.CommitTS}, func() error {
		out = append(out, r)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read uniq_kv on %s: %w", s.target.Name, err)
	}
	return out, nil
}

func observeDelta(ctx context.Context, s *snapshot) ([]DeltaRow, error) {
	rows, err := s.tx.Query(ctx, "SELECT k, n FROM delta_counter ORDER BY k")
	if err != nil {
		return nil, fmt.Errorf("read delta_counter on %s: %w", s.target.Name, err)
	}
	out := []DeltaRow{}
	var r DeltaRow
	if _, err := pgx.ForEachRow(rows, []any{&r.K, &r.N}, func() error {
		out = append(out, r)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read delta_counter on %s: %w", s.target.Name, err)
	}
	return out, nil
}
