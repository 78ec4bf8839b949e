// Package recovery recovers a failed node's transactions on the survivors:
// the reference slot-based strategy on stock PostgreSQL, Spock's runbooks
// by detected API, and a no-recovery control. Every strategy returns a
// Result that states what it moved, or that there was nothing to move.
//
// Contract:
//   - PrepareSlots runs once right after harness.Start, before any load: on
//     every node S, publication spockchaos_recovery FOR ALL TABLES and, per
//     peer X, an unconsumed pgoutput slot spockchaos_<db>_<S>_<X> (not
//     DESIGN.md's spock_<db>_recovery_<S>_<X>: Spock's own recovery slots
//     take that name; see RecoverySlotName).
//   - Keeper (keeper.go, the rule in rules.go) advances every
//     recovery slot continuously, without barriers, also during a lag:
//     each round it reads on every member, in ONE statement, its
//     subscription origins (remote_lsn, local_lsn) and writes them in a
//     flushed logical message (FloorMessagePrefix), so that each reading
//     is durable; then slot S->X moves (NextSlotPosition) to the local_lsn
//     of S's newest sample for X whose remote_lsn is at or below the
//     durable position for X of every other member P, and only forward.
//     Nothing moves for a slot when any value it needs cannot be read (P
//     or X down, paused, slow). The same positions (origin LSNs in X's
//     WAL) are read on pglogical and on Spock: Spock's apply session holds
//     the subscription's named origin, whose (remote_lsn, local_lsn) its
//     commits advance, even though the commit records carry X's node_id.
//   - Why the rule is safe: the sample (o, l) is S's last applied
//     transaction T of X (origin LSN o, its commit record ending at l in
//     S's WAL), durable. S applies X in X's order, one session at a time
//     per origin, so every transaction of X that S holds past o commits
//     after l; after a crash S applies again past its recovered end of WAL,
//     beyond l. Every P has durably applied X up to p_P >= o, in order, so
//     P lacks only transactions past o: all decodable from l. A lag, a
//     partition or a down peer keeps p_P (or its reading) where it is, so
//     the slot waits; a restart of S makes local_lsn read 0/0 until S
//     applies X again, and such samples are ignored.
//   - The proof point: the sample's floor message follows l in S's WAL, so
//     it is in every stream of the slot at l. The reference recovery
//     accepts a floor only when its local LSN is at or after the stream's
//     start (the slot's confirmed_flush, or the sample it started at), and a target whose origin LSN for X is at
//     or past the floor's o is then proven covered even when no
//     transaction of X at or before its position is left in the stream
//     (covers, rules.go: the older proof, a transaction at or before the target passed by, still applies too).
//     Transactions for a target that arrive before its proof (those S
//     applied between the sample and the message: a handful) are held
//     until the proof, or the target fails with the gap error at the end.
//   - The reference recovery pauses the Keeper given in Input.Keeper
//     while it runs (Keeper.Pause: the round in progress is cut short, as
//     a stop cuts it): a round's flushed readings and its slot advances
//     (which decode the WAL they pass) took disk and CPU the recovery
//     needs, and a peek waits for a slot the keeper holds. Slots that do
//     not move are always safe, and the failed node's are the recovery's
//     from the kill on.
//   - AdvanceSlots (barrier-based, kept for callers outside a run) moves
//     every live node's recovery slots to the WAL position it had before a
//     barrier that then passed; nothing moves when the barrier fails. The
//     scenario runner no longer uses it: it runs a Keeper through the load.
//   - Lookup(name) gives reference | spock | none | auto. Recover takes an
//     Input of DSNs (no live cluster) and always returns a Result, with an
//     error when any step failed; errors name the step and the node.
//   - reference (DESIGN.md section 5): fence (disable every survivor's
//     subscription from the failed node F, wait until no apply worker holds
//     its origin), progress per survivor (remote_lsn of that subscription's
//     origin), source = the highest, and every survivor behind it a
//     target: write a flushed logical message as the end marker, decode
//     the source's recovery slot for F once (peek.go) and replay on
//     every target side by side, in one origin-preserving transaction
//     each, the transactions whose Origin is the source's origin for F
//     with origin LSN past that target's progress (a target that fails is
//     drained and reported, the others go on); re-check that every
//     survivor's progress is equal. Idempotent; concurrent runs serialise
//     on the source's slot and the target's origin.
//   - Decision where DESIGN.md says "clone": the slot itself is decoded
//     and never moves, instead of a copy (sourcestream.go). A copy, even
//     TEMPORARY, writes the new slot to disk (seven fsyncs in
//     CreateSlotOnDisk alone: 45-77 ms on the critical path under load on
//     the 2-core machine), and bought no more than that: the original is
//     untouched either way. The Result's Streams say which slot was
//     decoded, from where.
//   - Decision: the slot is peeked, not streamed (peek.go).
//     pg_logical_slot_peek_binary_changes decodes in the server's own
//     backend and never moves the slot; the walsender's stream of the
//     same pgoutput messages sends each one on its own and polls the
//     client between WAL records: 1,000 single-row transactions took 4-7
//     ms peeked against 29-43 ms through pg_recvlogical (its start and
//     login included) on an idle node,
//     and under bench rto's load the stream took as long as applying what
//     it carried. The peek runs over the replication connection (it takes
//     simple queries), with the slot's confirmed_flush read right before
//     and right after it in the same query: they must agree, and that is
//     where the decoding provably began (floor messages are judged
//     against it; a later peek of the same recovery must find the same).
//     A second peek (on past the source's last commit of F, to the end
//     marker) decodes again from the slot and passes over what the first
//     fed (resume, by where each transaction's commit record or each
//     message ends). Only when a keeper sample lets the decoding start
//     more than streamSkipMin (4 MiB of WAL) past the slot's position is
//     the slot streamed through the walsender from there instead (the
//     walsender skips what lies before without sending it); every status
//     update then reports as flushed the slot's own confirmed_flush,
//     which the server ignores (it moves confirmed_flush only forward),
//     and the session's end releases the slot where it stood. The
//     replication connection is opened with the sessions in the connect
//     phase, one per survivor, over the survivor's DirectDSN (its
//     run-network address, past docker-proxy) when it reaches that very
//     survivor (it holds the survivor's own recovery slot for F), else
//     over its DSN. Each target replays on its own session from the
//     connect phase. The fence's commit does not wait for the disk: the
//     source's flushed end marker and each target's final flush make it
//     durable before success is reported. All of it saves logins and disk
//     writes on the recovery's critical path (bench rto).
//   - Standby (standby.go) keeps a session and a replication connection
//     open to every member ahead of any failure; a recovery given one
//     (Input.Standby) takes each survivor's pair instead of logging in;
//     the session's first query (pglogical: its origin and progress for
//     F) proves it still answers (else it logs in and asks again).
//     Each replication connection it opens peeks one change of a free
//     recovery slot (warmDecoding), so a recovery's first peek finds
//     pgoutput loaded and its caches warm. Scenarios and bench rto run one
//     through the load, beside the Keeper.
//   - Decoding starts before the fence (pglogical; sourcestream.go):
//     each survivor's origin for F, its progress and where its last
//     commit of F ends (local_lsn) are read with its session in the
//     connect phase; the survivor then ahead (the provisional source)
//     peeks its slot at once up to that end, for the others, keeping F's
//     transactions past the lowest of their positions in memory (at most
//     maxEarly) until the targets are open. Decoding then overlaps the
//     fence, and the targets apply what is already decoded. After the
//     fence the plan is made again from the progress read then; when its
//     source is another survivor, or a target stands behind the position
//     the decoding was started for (positions only move forward, so this
//     is a safeguard), that decoding is dropped and the final source's
//     slot decoded instead, and the note says so. On Spock the decoding
//     looks up xids on the source's session, which the fence uses: it
//     starts once the targets are open.
//   - Where the decoding ends (pglogical): at the first commit or
//     non-transactional message at or past the source's origin local_lsn
//     for F read after the fence (where its last commit of F ends: every
//     commit of F on the source, its apply worker's and earlier replays',
//     is made under that origin, which only moves forward), once every
//     target is proven covered; when it equals the one read before the
//     fence, the early peek already went there and nothing more is
//     decoded. Otherwise, and on Spock (whose replays keep the named
//     origin where it is) or when local_lsn reads 0/0 (a restart:
//     PostgreSQL rebuilds it only from the commits it replays), at the
//     end marker, which the targets do not wait for on pglogical (it is
//     written beside their opening). Decoding then stops at the failed
//     node's last transaction instead of running through all the load
//     committed since, up to the end marker.
//   - On Spock (DESIGN.md section 4; spockorigin.go) the failed node's
//     transactions are found in the stream by their commit-timestamp origin
//     (the failed node's Spock node_id, or the source's named origin for it
//     after an earlier replay), not by an Origin message (pgoutput sends
//     none for them), and placed by origin commit timestamp; a target's
//     position is its spock.progress remote_commit_ts for the failed node.
//     Replayed commits keep the target's named origin where it is; it is
//     advanced once, to the source's, after the stream proved complete.
//   - Progress moves only over what was provably replayed or provably
//     absent: a target is given nothing, and its progress is not moved to
//     the source's, unless a transaction of the failed node at or before
//     the target's position passed by in the stream first (then the stream,
//     the source's WAL in order up to an end marker written after the
//     fence, held every one after it: proveComplete); a stream with none
//     of the failed node's transactions is an error naming the range.
//   - spock: detects the API from pg_proc (recovery-slot, rescue,
//     recover_run) and runs its runbook under statement_timeout; numbers
//     come from measured effect only (rows and transactions of the failed
//     node by the origin Spock really stamps, and progress). What Spock's
//     calls fail to do is a Finding (a failure of the system under test,
//     judged by the recovered checker and the convergence check), never a
//     harness Error; a server with no API gives ErrNoSpockAPI.
//   - none: does nothing and says "not attempted"; never NothingToRecover.
//   - auto: spock when the flavor is spock and an API is found, else
//     reference, and the note says which and why.
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
//     a token of this recovery (<db>_<failed>_end_<ns>): exact, and
//     independent of keepalive timing.
//   - pgoutput protocol 1, no streaming: large transactions arrive whole at
//     commit (the decoding spills them to disk).
//   - A target's batch is sent when full (200 transactions), when the
//     decoding ends, or when nothing more is waiting and its first
//     transaction has waited 2 ms (batchLinger): sending each transaction
//     alone, as soon as it came, cost the target a round trip and a
//     commit's wake-ups each, CPU the decoding then lacked on 2 cores.
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
//   - Round trips on the critical path are merged where one statement
//     cannot need another's answer: a survivor's origin for F and its
//     position are one query; the fence's probe takes the origin, gives it
//     back and reads its position in one batch (the progress step after it
//     asks nothing more); a target's session settings, origin set-up and
//     progress are one batch (a refused set-up rolls the settings back
//     with it, and the batch is sent again); its final flush and progress
//     read are one, and it keeps the origin until verify-progress, which
//     releases it and reads every survivor side by side. On a busy 2-core
//     machine a round trip costs 1 to 4 ms.
//   - Fenced subscriptions stay disabled: F is dead, and re-enabling is the
//     scenario's decision once F returns.
//   - PrepareSlots creates the slots for every flavor, Spock included:
//     the reference strategy (spock's fallback, and the oracle for Spock's
//     own recovery) needs them; they cost only retained WAL.
//   - recover_run and the rescue API are called per lagging survivor with
//     the survivor that holds most of the failed node as source (the rescue
//     runbook takes find_rescue_source's answer when it names a survivor);
//     recover_run needs Survivor.NetworkDSN. After any runbook the effect
//     is awaited for up to settleFor, since Spock may act asynchronously.
package recovery
