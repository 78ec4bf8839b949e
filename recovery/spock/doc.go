// Package spock runs Spock's own recovery runbooks (DESIGN.md section 4)
// and judges them by their measured effect.
//
// Contract:
//   - Spock detects the API from pg_proc (recovery-slot, rescue,
//     recover_run) and runs its runbook under statement_timeout; a server
//     without one gives ErrNoSpockAPI. DetectSpockAPI and DetectAPIOn say
//     which API a server offers, for a check before a run and for
//     recovery.Auto.
//   - Numbers come from measured effect only: rows and transactions of
//     the failed node by the origin Spock really stamps, and progress.
//     What Spock's calls fail to do is a Finding (a failure of the system
//     under test, judged by the recovered checker and the convergence
//     check), never a harness Error.
//   - recover_run and the rescue API are called per lagging survivor with
//     the survivor that holds most of the failed node as source (the
//     rescue runbook takes find_rescue_source's answer when it names a
//     survivor); recover_run needs Survivor.NetworkDSN. After any
//     runbook the effect is awaited for up to settleFor, since Spock may
//     act asynchronously. Its clean-up never touches the harness's own
//     slots (recovery.OwnSlotPattern).
package spock
