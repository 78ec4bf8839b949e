// Package verify holds the checkers: row-level convergence across
// survivors, and history checkers (durability, atomicity, indeterminate
// writes, invariants). Every checker returns a CheckResult; an error or a
// panic inside a checker becomes Unknown, never Pass.
//
// # Convergence
//
// Convergence(ctx, targets, opts) compares the tables of N >= 2 servers
// (any PostgreSQL 14+; it needs hash_record_extended, bit_xor and
// pg_xact_commit_timestamp_origin). Each node is read in one REPEATABLE
// READ READ ONLY transaction held for the whole comparison. Tables: every
// ordinary or partitioned table (not the partitions) of every user schema,
// never pglogical's or spock's, and the harness's own schema (spockchaos)
// only when asked; or the tables named. A table is compared on the nodes
// that have it; a node without it makes the table "missing" (a
// difference); columns or keys that differ make it "schema-differs" and
// the rows are compared on the common columns.
//
// # History checkers
//
// Observe(ctx, targets) captures the workload tables (ledger,
// bank_accounts, hotkey, found on the search path) of every node, each in
// one snapshot, as a JSON-serialisable Observation. CheckHistory(ops, obs,
// opts) is pure over the history and that observation, so `spockchaos
// check DIR` can re-run it without a cluster. It returns durability,
// atomicity, indeterminate, bank-invariant, hotkey-convergence,
// last-update-wins, unique-conflict and delta-counter, in that order. Decisions: durability covers ledger-txn
// and large-txn writes
// (the ops whose rows name their transaction); a write acknowledged by a
// node that is not a survivor is tallied present on all / absent on all /
// split and only a split fails; an invoke with no completion counts as
// info; a txn whose op failed but whose rows exist fails atomicity;
// transfers without a bank-init op are unknown (the initial totals are
// unknown); a checker with none of its ops is skipped (verdict "skipped",
// summary "not applicable: no <x> ops"), never a pass, and a run whose
// every checker was skipped is unknown (Combine).
//
// # Other checkers
//
// Each has its decision rule at the top of its file: last-update-wins
// (history_lww.go), unique conflict (history_uniq.go), delta counter
// (history_delta.go), replication health (replication_health.go),
// exception audit (exception_audit.go), double apply (double_apply.go:
// a remote transaction committed twice, read from the WAL), schema diff
// (schema_diff.go: the survivors' catalogs of the replicated schemas, in
// the manner of pgEdge ACE's schema-diff) and divergence evidence
// (evidence.go). Convergence's method, exactness and speed are at the top
// of convergence.go.
//
// The schema features' checkers (generated-columns, partitioned,
// foreign-key, truncate, sequence-keys) have theirs at the top of
// history_schema.go, history_fk.go, history_trunc.go and history_seq.go.
package verify
