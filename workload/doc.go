// Package workload drives client operations against a cluster and records
// every one in a history (package history): invoke before it runs, then
// exactly one of ok (it happened), fail (it certainly did not) or info
// (unknown). Workloads: ledger, bank, hotkey, conflict, ycsb (go-ycsb core workloads
// a..f as ycsb-a..ycsb-f; "ycsb" is A), the row-race workloads (toast,
// unique-conflict, pk-race, delta-counter), schema-features, plus the large-transaction op.
// Their tables and op values are the shared data contracts (see the
// <Name>Schema constants and the *Value types).
//
// API for a scenario runner:
//
//	w, _ := workload.Lookup("bank")             // Names() lists them
//	cluster.ApplySchema(ctx, w.Schema(), t)     // or harness.Config.Schema
//	w.Setup(ctx, targets, rec)                  // initial rows on targets[0]
//	cluster.Barrier(ctx, cluster.Nodes, t)      // the caller's barrier
//	stats, _ := w.Run(ctx, workload.RunConfig{Nodes: targets, Recorder: rec, Seed: s, ...})
//	workload.LargeTxnWith(ctx, workload.LargeTxnConfig{Target: t, Rows: 20000, OnCommitSent: kill}, rec)
//	workload.Plan("ledger", seed, []string{"n1", "n2"}, 2, 10) // first choices, no database
//
// Targets are plain (name, DSN) pairs so that this package does not import
// the harness. Process ids are "<node>-c<i>"; each client has its own
// random source derived from the seed and its process id (ClientRand), so
// a seed replays each client's choices whatever the scheduling.
//
// Decisions where the design is silent:
//   - Every op of ledger, bank and hotkey is ONE autocommit statement (a
//     statement is a transaction): one round trip per op, and no window
//     where a lost connection before COMMIT could hide a partial effect.
//     Ledger inserts rows 1..K with generate_series; a bank transfer is one
//     UPDATE of both accounts guarded so that it touches both or neither.
//     Such a statement is "in flight" from the moment it is sent, so any
//     error but a definite server error is info. The large-transaction op
//     is BEGIN, COPY, COMMIT, with OnCommitSent called once COMMIT is on
//     the wire (workload.Commit).
//   - Classification (Classify): server errors are fail (reason from the
//     SQLSTATE: serialization_failure, unique_violation, ...), except
//     08/57/58/XX errors while COMMIT is in flight (e.g. 57P01 at a fast
//     shutdown), which are info. pgconn.SafeToRetry is NOT trusted: pgx
//     reports a connection lost while reading COMMIT's answer as a
//     retry-safe "conn closed" (see the classify spec). Connection errors
//     are fail before COMMIT was sent, info after.
//   - An op in flight is never cut by the run's cancellation (ctx or the
//     duration ending is a normal stop); only by RunConfig.OpTimeout (10 s).
//     So a clean stop leaves no info ops.
//   - A client whose connection broke reconnects for RunConfig.Reconnect
//     (2 s); then, with Failover, it moves to the next node, otherwise it
//     stops (Stats.ClientsGaveUp). No op is recorded for a failed connect.
//     Each connect takes the target's DSN of that moment (Target.DSNNow,
//     when set): a node restarted on another published port gets its
//     clients back when Reconnect outlasts the restart.
//   - Transaction ids are "<TxnPrefix><process>-<n>"; TxnPrefix defaults to
//     "s<seed>-", so rerunning a seed on the same cluster needs a fresh
//     prefix (the CLI adds the time).
//   - Workloads whose clients draw ops from a per-client generator
//     (ledger, toast, ...) implement generator(prefix, process); Run and
//     Plan share it (runGenerated).
//
// Each workload's table, ops and decisions are at the top of its file
// (bank.go, hotkey.go, conflict.go, ycsb.go, toast.go, uniq.go, pkrace.go, delta.go,
// schema.go).
package workload
