// Package reference is the harness's own recovery (DESIGN.md section 5)
// on stock PostgreSQL primitives: fence, progress, source choice, one
// decoding of the source's recovery slot (never moved, never copied),
// origin-preserving last-update-wins replay on every target, re-check.
//
// Contract:
//   - Phases (Result.Phases): connect (every survivor's session and
//     replication connection, side by side, taken from a Standby when one
//     is given), fence (disable every survivor's subscription from the
//     failed node F and wait until no apply worker holds its origin),
//     progress (each survivor's remote_lsn for F; on Spock its
//     spock.progress commit time), recover, verify-progress (every
//     survivor's progress equal, else an error). The Keeper given in
//     Input is paused while it runs.
//   - Source: the survivor with the highest progress; every survivor
//     behind it is a target. Each target replays, in one
//     origin-preserving transaction each, the transactions of F past its
//     position, on its own session; a target that fails is drained and
//     reported, the others go on. Idempotent; concurrent runs serialise
//     on the source's slot and the target's origin.
//   - What each decoded transaction becomes for each target (replay,
//     skip, hold, gap) is the router's decision (router.go, pure, table
//     tested) on recovery's rules; sourceStream.feed only does the I/O.
//     Progress moves only over what was provably replayed or provably
//     absent (recovery.Completeness); a target the stream cannot be
//     proven to cover gets nothing and its progress stays.
//   - Decoding (peek.go, sourcestream.go): the slot is peeked from its
//     confirmed_flush, read right before and after in the same query; on
//     pglogical it starts before the fence on the provisional source and
//     is kept only when it serves the final plan (recovery.Reusable); it
//     ends at the source's last commit of F read after the fence once
//     every target is covered, else at an end marker written after the
//     fence. From a keeper sample far past the slot (streamSkipMin) the
//     slot is streamed through the walsender instead, reporting only the
//     slot's own position as flushed.
//   - On Spock the failed node's transactions are found by their
//     commit-timestamp origin and placed by commit time (pgnode); the
//     targets' origins are advanced once, after the proof.
//   - Replay (apply.go): pipelined batches (200 transactions), each with
//     its own BEGIN/COMMIT and origin progress, commits asynchronous and
//     made durable by one flushed record before success is reported; a
//     crash mid-replay is resumed by running recovery again. A change
//     applies only over an older row version (last update wins, judged
//     by the target server); an update or delete of a missing row is
//     skipped and counted. TRUNCATE of F is refused.
//   - MeasureApply (floor.go) applies given transactions the same way,
//     with nothing to decode: bench rto's floor.
//
// Figures behind these decisions: README.md, "Recovery slots and recovery
// time".
package reference
