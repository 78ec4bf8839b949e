// Package recovery recovers a failed node's transactions on the survivors:
// the reference slot-based strategy on stock PostgreSQL, Spock's runbooks
// by detected API, and a no-recovery control. Every strategy returns a
// Result that states what it moved, or that there was nothing to move.
//
// Contract:
//   - PrepareSlots runs once right after harness.Start, before any load: on
//     every node S, publication spockchaos_recovery FOR ALL TABLES and, per
//     peer X, an unconsumed pgoutput slot spock_<db>_recovery_<S>_<X>.
//   - AdvanceSlots moves every live node's recovery slots to the WAL
//     position it had before a barrier that then passed (DESIGN.md: only
//     at a barrier); nothing moves when the barrier fails. Scenarios call
//     it during the load while no fault is in force, so that a recovery's
//     clone decodes seconds of WAL, not the whole run.
//   - Lookup(name) gives reference | spock | none | auto. Recover takes an
//     Input of DSNs (no live cluster) and always returns a Result, with an
//     error when any step failed; errors name the step and the node.
//   - reference (DESIGN.md section 5): fence (disable every survivor's
//     subscription from the failed node F, wait until no apply worker holds
//     its origin), progress per survivor (remote_lsn of that subscription's
//     origin), source = the highest, and every survivor behind it a
//     target: copy the source's slot for F once, write a flushed logical
//     message as the end marker, stream the clone with pglogrepl once and
//     replay on every target side by side, in one origin-preserving
//     transaction each, the transactions whose Origin is the source's
//     origin for F with origin LSN past that target's progress (a target
//     that fails is drained and reported, the others go on); drop the
//     clone (always); re-check that every survivor's progress is
//     equal. Idempotent; concurrent runs serialise on the target's origin.
//   - spock: detects the API from pg_proc and runs its runbook under
//     statement_timeout; numbers come from measured effect only.
//   - none: does nothing and says "not attempted"; never NothingToRecover.
//   - auto: spock when the flavor is spock and an API is found, else
//     reference.
//
// Decisions where DESIGN.md is silent:
//   - The publication is FOR ALL TABLES (tables created later are covered);
//     the replay skips schemas pglogical, spock and spockchaos (replication
//     bookkeeping and the harness barrier), so counts are user transactions.
//     A transaction of F that touched only those tables is not replayed;
//     the target's progress is then advanced to the source's by an empty
//     origin transaction, which is sound because the target now holds all
//     the source holds of F.
//   - The origin of subscription sub_<P>_<F> is its slot name, read from
//     <pglogical|spock>.subscription.sub_slot_name and checked in
//     pg_replication_origin (pglogical: pgl_<db>_<provider>_<sub>, verified
//     on pglogical 2.4.5).
//   - The stream ends at a logical message (pg_logical_emit_message with
//     flush, PostgreSQL 17) written on the source after the fence, carrying
//     the clone's name: exact, and independent of keepalive timing.
//   - pgoutput protocol 1, no streaming: large transactions arrive whole at
//     commit (the walsender spills them to disk).
//   - Replay commits are asynchronous and pipelined (pgx Batch, up to 200
//     transactions per round trip, each with its own BEGIN/COMMIT); each
//     commit carries its origin progress, so a crash loses data and progress
//     together, and one flushed WAL record at the end makes it durable
//     before success is reported. A crash mid-replay is resumed exactly by
//     running recovery again (tested).
//   - Last update wins: a change applies only over a row whose commit
//     timestamp is older (or unknown); an update or delete of a missing
//     row is skipped, as pglogical does. Skipped changes are counted in
//     Pair.RowsSkipped. TRUNCATE of F is refused (an error), not replayed.
//   - Fenced subscriptions stay disabled: F is dead, and re-enabling is the
//     scenario's decision once F returns.
//   - PrepareSlots creates the slots for every flavor, Spock included:
//     the reference strategy (spock's fallback, and the oracle for Spock's
//     own recovery) needs them; they cost only retained WAL.
//   - Spock's rescue API (variant 2) has no runbook yet: spock falls back to
//     reference and says so. recover_run is called per lagging survivor with
//     the most advanced survivor as source and needs Survivor.NetworkDSN.
package recovery
