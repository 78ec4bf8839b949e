// Package reports renders a run record (package record) into the files a
// reader opens (DESIGN.md section 7): results.json, junit.xml, summary.md
// and report.html. It only consumes a record and its history: it never
// talks to a cluster, and the record's own files (run.json,
// observation.json, history.jsonl, nodes/) are written and read back by
// package record.
//
// Layout of a run directory, <parent>/<utc-time>-<scenario>-s<seed>/:
//
//	run.json          everything the runner knows (record.Run), the source for re-rendering
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
//   - The verdict written is record.Run.EffectiveVerdict: Verdict when set,
//     else the checkers' combination; a harness error is never pass.
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
//   - `spockchaos check` re-runs only the history checkers and
//     exception-audit on its stored capture (the convergence check needs
//     live servers); it compares like with like
//     (the stored results of the same checkers) and says what changed.
//     Run.Observation is stored as observation.json for it.
//   - Differing rows are found in checker details generically (the lists of
//     objects, searching inside per-table containers), so the report does
//     not depend on one checker's detail layout; each row is shown as
//     nested tables of its fields (every survivor's version lines up).
//   - Reading a run directory back (report, check, repro, verify --run DIR)
//     never trusts its bytes: record.Load and record.ReadArtifact say what
//     is wrong in one line naming the file. results.json, junit.xml,
//     summary.md and report.html are outputs: `report DIR` rewrites them
//     whatever they hold and no command reads them back. Fuzz targets
//     (fuzz_test.go) feed any bytes to record.Decode and to RecheckDir.
//   - Each divergence class is followed, in summary.md and report.html, by
//     its server evidence (run.json's "evidence", copied into
//     results.json): "evidence from n2's log: <entry>" per line found, or
//     "n2: no server evidence found"; a run that stored no evidence (older
//     runs, runs without classes) shows none.
//   - Write is record.Write (the record's files) then Render, then the
//     latest link; the runner fills node artifacts with
//     harness.CaptureNodeState and record.Node.
package reports
