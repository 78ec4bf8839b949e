// Package record is the run record: the plain data of one run (its
// identity, nodes, phases, faults, recovery, recovery times, checker
// results, verdict) and the files of a run directory that hold it
// (run.json, observation.json, history.jsonl, nodes/<n>/). Every layer may
// import it; it imports no harness, recovery, verify or scenarios code
// (only workload/history, for the history file), so that the runner, the
// renderers (package reports), campaign, repro and shrink share one shape
// of a run without depending on one another. Like etcd's robustness
// report types: data here, rendering elsewhere.
//
// What it promises:
//   - run.json is the single source of a run: Write stores it (with the
//     node artifacts, the history and the observation), Load and Decode
//     read it back. A run directory written by an earlier spockchaos
//     loads, and Write writes its run.json again byte for byte (the golden
//     specs, testdata/golden/): the free-form parts (config, checker
//     details) are kept as the JSON text they were stored as.
//   - Reading never trusts the bytes: ReadArtifact and DecodeArtifact (at
//     most MaxArtifactBytes, a regular file, UTF-8, one JSON object and
//     nothing after it, types checked) say what is wrong in one line
//     naming the file, the field and the byte offset; a run.json must name
//     a scenario and use only the verdicts pass, fail, unknown (a checker
//     also skipped).
//   - Run.Settings and Node.Settings (server settings and what each node
//     showed for them) are omitted when empty, so older run.json files
//     keep loading and re-writing byte for byte.
//   - The verdict of a run is Run.Verdict when set, else Combine of its
//     checkers; a run with a harness error (Run.Error) is never pass.
//   - Recovery and KeeperReport are the plain shapes of the recovery
//     package's results; the runner converts them when it closes the
//     record (scenarios/record.go, with a spec that fails on a field
//     stored on one side only).
//
// The runner writes the record through a few calls (AddPhase,
// StartFault/EndFault/EndOpenFault, Node, AddCheckers, AddRecoveryTime)
// and closes it with Conclude, then Interrupt or Broken when the run was
// stopped or its history could not be closed. The record does not render
// (package reports) and does not read servers (harness.CaptureNodeState
// fills a NodeState).
package record
