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
// Method: ranges are buckets of a hash of the primary key (hash % m), not
// key intervals: that works the same for every key type and composite
// keys, and one aggregate scan per node hashes all buckets at once. Each
// node returns (bucket, count, xor of row hashes) for every bucket, all
// nodes in parallel; buckets that differ are split (modulus m*f, one more
// scan restricted to them) until each holds at most LeafRows rows on every
// node, then their rows are fetched in batches of at most FetchBatchRows
// per node and diffed in Go on the md5 of each row's canonical text. So the
// harness holds one batch, never a table; a table that differs entirely is
// still walked batch by batch, and at most MaxReportedRows rows are listed
// per table (all are counted). Each differing row is reported with its key,
// every node's version or absence, the columns that differ, and each
// version's commit timestamp and origin from
// pg_xact_commit_timestamp_origin(xmin), the origin shown as the origin
// node's name (pglogical's named origin and Spock's node_id both map to
// it, see origins.go), "local", or the raw origin; both are
// empty when track_commit_timestamp is off or the xid is frozen. Values
// longer than 256 bytes are shortened in reports and carry their length
// and md5.
//
// Exactness: a row hash is one hash_record_extended over a ROW of the
// columns whose type's own hash tells every two distinct values apart
// (recordHashTypes: no text conversion, and one function call per row
// rather than one per column), numeric adding scale() as a field and text
// types hashed in the "C" collation; other types (json, float, interval,
// user types) are hashed one by one through their text and xored in. The
// final diff uses the full text under fixed settings (UTC, ISO dates,
// extra_float_digits 3, hex bytea). NULL differs from the empty string,
// 1.0 from 1.00, timestamps to the microsecond; jsonb compares
// semantically (its text is canonical, so key order never counts; as jsonb
// equality, a number 1.0 inside jsonb equals 1.00). A table without a
// primary key is compared by an order-free whole-table hash (count and sum
// of row hashes) and reported with a note that row-level detail is
// unavailable; so is a table whose key differs between nodes.
//
// Speed: with ConvergenceOptions.SharedHost (the harness's own clusters,
// whose nodes share the machine's cores) each node's scans run without
// parallel workers, which would only compete with the other nodes' scans.
// The hash aggregate's subquery is fenced (OFFSET 0) so that the planner
// sizes it for few groups. On 2 cores, 3 nodes of 1M rows take about 1.6 s
// against 3.3 s for a naive k-way merge of binary rows; hashing every row
// once with no ranges at all takes 0.9 s there, so the servers' hashing,
// not the method, bounds the speedup on such a machine (`spockchaos bench
// verify` prints all three).
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
// # Last-update-wins
//
// For every key of the conflict workload (conflict_kv), each survivor
// must hold the value of the acknowledged write that last-update-wins
// picks: the latest commit timestamp (recorded by the client right after
// its commit), ties broken as the flavor breaks them (TieRule: Spock, the
// lower origin tiebreaker, by default node_id; pglogical, no rule, so
// either tied write is accepted and the tie counted), or no row when that
// write is a delete. A remote DELETE applies whatever its timestamp and
// leaves no tombstone (both flavors), so an absent row is right when no
// acknowledged insert follows the last delete; updates lost that way are
// counted. Acknowledged writes of a failed node that no survivor holds are
// counted as lost with it, not failed (durability judges them). Each
// violation names the key, the node, the version it holds and the writes
// that should have won, with their nodes and commit timestamps. Real-time
// inversions (an acknowledged write that started after another ended and
// still lost to it, as skewed clocks make happen) are counted and listed
// as a finding, never a failure. A key with an acknowledged write whose
// commit timestamp is unknown is not judged (listed).
//
// # Unique conflict
//
// For the unique-conflict workload (uniq_kv, observed per node), every
// survivor must hold the same primary key for each unique value, or none
// (both flavors resolve a remote insert that meets another key's unique
// value by last-update-wins; Spock only with spock.check_all_uc_indexes
// on), and every row held must come from an insert that did not fail
// (ok or info). A violation names the value and each node's key and
// writer ("u=3: n1 holds k=11 (by n1-c0), n2 holds none, ..."); the
// summary counts the values acknowledged on two or more nodes (the races).
//
// # Delta counter
//
// For the delta-counter workload: with delta apply on (the delta-init op
// says so), every survivor's counter must lie between the sum of the
// increments acknowledged by survivors and that plus every increment
// whose outcome is unknown or whose node failed; below is a lost
// increment (last-update-wins kept one write over another), above one
// applied twice. A violation names key, node, value and sum, and the
// acknowledged increments of exactly the missing amount. Without delta
// apply the checker is skipped with the init op's reason (e.g. "not
// applicable: pglogical has no delta apply"); without an init op it is
// unknown.
//
// # Replication health
//
// JudgeReplicationHealth decides, from the survivors' subscription
// statuses at the end, the fault windows that disabled a subscription on
// purpose (SubscriptionFaults: a fault whose start names the subscription)
// and the subscribers' log lines about them (ParseSubscriptionLog), that
// every subscription is replicating and was never disabled by the server
// itself outside a fault; a fault still in force excuses its subscription
// with a note. A failure names node, subscription, status, time and the
// server's reason. Pure: the sampling is the scenarios package's.
//
// # Exception audit
//
// JudgeExceptionAudit decides, from what Spock recorded on the survivors
// (ExceptionCapture: every spock.exception_log row, and spock.resolutions
// counted by table, type, resolution and origin where
// spock.save_resolutions is on) and the tables the run's workload writes
// from several nodes (ContendedTables: conflict_kv, hotkey, usertable,
// toast_wide when at least two nodes wrote them; "rows come and go" with
// inserts or deletes), that every row is a conflict the workload provoked on purpose.
// The rule, from Spock's source (5.0.7 to 6.0): saved resolutions are
// explained on a contended table; an exception_log row's error is
// explained only when it is update_missing ("did not find row to be
// updated", the one conflict Spock raises as an error) on a contended
// table whose rows come and go; the other rows of a transaction (same
// subscriber, origin, remote xid and commit time) are collateral and
// share its fate; "(root cause not captured)" never explains. A failure
// names the subscriber, subscription, origin, remote xid, commit time,
// table and message. exception_log has no LSN column: the LSN is in the
// server log's discard/disable lines (see the divergence evidence). More
// than ExceptionRowsRead rows on a node make it unknown; pglogical
// (NotApplicable) makes it skipped, never a pass.
//
// # Divergence evidence
//
// FindEvidence attaches to each divergence class what the servers of the
// nodes that lack its rows (or hold them alone, or hold a differing
// version) said about them: the server-log entries (a message with its
// DETAIL/CONTEXT lines) naming a transaction committed within the class's
// commit times ("xid N committed at <ts>", as Spock and pglogical name
// the transaction they apply, discard or fail; an entry naming another
// time is about another transaction) and no other table; entries naming
// no commit time that say a transaction was discarded, a subscription
// disabled or an apply failed, naming the class's subscription or table,
// logged from 10 s before its first commit to 60 s after its last; and
// the node's exception_log rows of the class's table and commit times.
// The run record keeps no commit LSN or xid per row, so the commit time
// (to the microsecond) and origin are the keys. At most 6 lines per class
// and node are kept, the rest counted; none found is said as such. It is
// generic: Finding.Explains (scenarios) still names one known bug.
package verify
