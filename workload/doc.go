// Package workload drives client operations against a cluster and records
// every one in a history (package history): invoke before it runs, then
// exactly one of ok (it happened), fail (it certainly did not) or info
// (unknown). Workloads: ledger, bank, hotkey, conflict, ycsb (go-ycsb core workloads
// a..f as ycsb-a..ycsb-f; "ycsb" is A), the row-race workloads (toast,
// unique-conflict, pk-race, delta-counter, see below), plus the large-transaction op.
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
//   - Bank: owner i (node order) owns accounts i*A..i*A+A-1; a client
//     transfers between accounts of the node it talks to. "bank-init" is
//     recorded as an invoke and an ok by process "setup".
//   - Hotkey: Setup inserts keys 0..N-1 (not recorded); an update of a
//     missing key is fail with reason no_effect.
//   - Conflict: Setup inserts keys 0..N-1 (v 0, writer "setup") and
//     records conflict-init; clients insert (if absent), update and
//     delete (if present) those keys from every node at once. Each write
//     is one statement returning its xid; right after its commit the
//     client reads pg_xact_commit_timestamp of that xid and the ok
//     completion carries it (commit_ts), which last-update-wins compares.
//     A write that touched no row is fail with reason no_effect.
//   - YCSB: go-ycsb's core workload chooses operations and keys; our
//     binding (ycsbDB) executes and records them. go-ycsb seeds each
//     thread from the clock: we reseed that source from the client's seed
//     (by reflection on go-ycsb's unexported thread state; the Plan spec
//     fails if that stops working). go-ycsb's read-modify-write is a Read
//     then an Update: the binding records it as one "ycsb-read-modify-write"
//     op; plain reads are recorded right after they ran (reads change
//     nothing). Setup loads RecordCount rows through go-ycsb's DoInsert,
//     recorded as ycsb-insert by process "setup". go-ycsb's key sequences
//     are shared by all clients, so ycsb keys are exactly replayable only
//     with one client.
//   - Toast: a wide table (toast_wide: k, n, note, writer, doc text, blob
//     bytea) whose doc and blob are STORAGE EXTERNAL and 4-20 kB of random
//     bytes, so they always live uncompressed in the TOAST table. Setup
//     inserts keys 0..Keys-1 (not recorded). 60% of ops (toast-touch)
//     update n, note and writer only: logical decoding then ships doc and
//     blob as "unchanged toast"; the rest (toast-rewrite) also write a new
//     doc, blob or both. Values are recorded by length and md5, never in
//     full. Judged by convergence (which hashes every column; the workload
//     spec plants one changed doc and sees its key named). Measured on
//     pglogical 2: a subscriber applying an update that won by commit
//     timestamp keeps its own doc/blob where the update said "unchanged",
//     so rows diverge in their large columns only (10 of 16 rows in 5 s).
//   - Unique-conflict: uniq_kv (k bigint PRIMARY KEY, u int UNIQUE,
//     writer). uniq-insert writes a fresh key (UniqKey of its TxnID, 53
//     bits) with a unique value from a pool of Values (6) every node draws
//     from; uniq-delete deletes the row holding a value (no_effect when
//     none). "unique-conflict-no-delete" only inserts, drawing from the
//     pool of the current 100 ms wall-clock window (Plan fixes the clock),
//     so values are never reused. A local unique violation is fail. The
//     checker is verify's unique-conflict. Measured on pglogical 2: it
//     resolves a remote insert that meets another key's unique value by
//     last-update-wins, overwriting the local row (its key too); inserts
//     alone converge (650 raced values, crash-restart, seed 8), but with
//     deletes a key overwritten on one node and deleted or kept elsewhere
//     leaves nodes holding different keys for a value (3 of 5 values in
//     the workload spec's 5 s; unique-conflict-crash-restart-like runs
//     failed on 2 seeds of 4), as pglogical's source warns
//     (pglogical_tuple_find_conflict: "not wholly safe"). Its apply also
//     errs now and then with a duplicate key on the unique index (two
//     inserts of one value checked before either was written); the worker
//     restarts and the retry resolves it. Spock resolves secondary unique
//     conflicts only with spock.check_all_uc_indexes on (experimental,
//     default off: the apply errs, docs/limitations.md).
//   - PK-race: pk_kv (k int PRIMARY KEY, v, writer), keys 0..Keys-1
//     (12), Setup fills the first half (not recorded). 30% pk-move (an
//     UPDATE that changes k to another key: unique_violation if taken),
//     30% pk-update, 20% pk-delete, 20% pk-insert (ON CONFLICT DO
//     NOTHING); an op on a missing key is no_effect. Judged by
//     convergence, which names the keys. Measured on pglogical 2: a
//     remote move or insert onto a key another node wrote fails its apply
//     with a duplicate key on pk_kv_pkey every retry, so the subscription
//     stays down (the workload spec runs it from one node only).
//   - Delta-counter: delta_counter (k int PRIMARY KEY, n bigint). Setup
//     makes n a Spock delta-apply column on every node (ALTER TABLE ...
//     ALTER COLUMN n SET (log_old_value=true,
//     delta_apply_function=spock.delta_apply), Spock's docs/conflicts.md)
//     when each node has spock.delta_apply(int8,int8,int8) and accepts
//     the option, inserts counters 0..Keys-1 (4) at 0 and records
//     delta-init {keys, delta_apply, reason} ("pglogical has no delta
//     apply" there). delta-add adds 1..100 to a counter in one UPDATE.
//     The checker is verify's delta-counter.
//   - Workloads whose clients draw ops from a per-client generator
//     (ledger, toast, ...) implement generator(prefix, process); Run and
//     Plan share it (runGenerated).
package workload
