// Package reports writes and re-reads a run's artifact directory
// (DESIGN.md section 7). It only consumes results: it never talks to a
// cluster except in CaptureNodeState, which the runner calls to snapshot a
// node's replication state.
//
// Layout of a run directory, <parent>/<utc-time>-<scenario>-s<seed>/:
//
//	run.json          everything the runner knows (Run), the source for re-rendering
//	history.jsonl     the history (copied in by Write unless already there)
//	observation.json  final state captured from the survivors, for `spockchaos check`
//	results.json      scenario, seed, verdict, checkers, recovery, faults, phases
//	junit.xml         one testsuite, one testcase per checker plus one for recovery
//	summary.md        short Markdown for a CI step summary
//	report.html       one self-contained page (inline SVG charts, no network)
//	nodes/<n>/        server.log, {slots,origins}-{before-fault,after-recovery}.json
//
// and <parent>/latest, a symlink to the newest run directory.
//
// Decisions where DESIGN.md is silent:
//   - run.json is the single source: `spockchaos report DIR` rebuilds every
//     other file from run.json and history.jsonl alone, so Write and Render
//     share one code path.
//   - The verdict written is Run.Verdict when set, else verify.Combine of the
//     checkers; a run with a harness error (Run.Error) is never pass.
//   - The recovery testcase fails when the strategy reported errors, is
//     skipped when the scenario had no recovery step, and passes otherwise
//     (nothing_to_recover is said in its output, never hidden).
//   - Charts are drawn by gonum.org/v1/plot into inline SVG (no JavaScript
//     chart library, no asset). The only script is a few inline lines for
//     the differing-rows filter box; a Content-Security-Policy meta tag
//     forbids every fetch, so the page provably works offline.
//   - Throughput and latency come from history.jsonl alone: completions per
//     node per second by type, latency = completion time - invoke time
//     (matched by process). Fault windows come from the history's fault
//     events: start to heal(ed), or to the end for a kill never undone.
//   - `spockchaos check` re-runs only the history checkers (the
//     convergence check needs live servers); it compares like with like
//     (the stored results of the same checkers) and says what changed.
//     Run.Observation is stored as observation.json for it.
//   - Differing rows are found in checker details generically (the lists of
//     objects, searching inside per-table containers), so the report does
//     not depend on one checker's detail layout; each row is shown as
//     nested tables of its fields (every survivor's version lines up).
//   - Reading a run directory back (report, check, repro, verify --run DIR)
//     never trusts its bytes: run.json and observation.json are read by
//     ReadArtifact (at most MaxArtifactBytes, a regular file, UTF-8, one
//     JSON object and nothing after it, types checked; a missing, empty,
//     truncated or wrong-typed file is one line naming the file, the field
//     and the byte offset), run.json must name a scenario and use only the
//     verdicts pass, fail, unknown. results.json, junit.xml, summary.md and
//     report.html are outputs: `report DIR` rewrites them whatever they
//     hold and no command reads them back. Fuzz targets (fuzz_test.go)
//     feed any bytes to DecodeRun and to RecheckDir.
//   - For the runner: Run.StartPhase times phases, FaultsFromHistory builds
//     Run.Faults from the history's fault events, CaptureNodeState +
//     WriteNodeState / WriteServerLog (or the Node fields, written by Write)
//     store nodes/<n>/ as soon as the data exists.
package reports
