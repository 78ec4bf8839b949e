// Package scenarios is the catalog of chaos scenarios and the runner that
// executes one: phases T0..T7 of DESIGN.md section 3 (up, load, fault,
// detect, recover, quiesce, verify, report).
//
// A Spec declares a scenario (what runs, on how many nodes, which faults
// when, which recovery, which checkers, which verdict the gate expects);
// every field is documented on the type. Register validates a spec when it
// is added, so a malformed catalog fails at start, not mid-run.
//
// Determinism: one seed drives every random choice of a run. The fault plan
// (victims, timings with jitter) is derived from the seed before the
// cluster starts, printed at start, and stored in run.json; workload keys
// come from the same seed. The same seed replays the same plan.
//
// The Ginkgo suite in this package runs the catalog by label (gate,
// nightly, release); a spec passes when the run's verdict is the one the
// scenario expects (kill-without-recovery is expected to FAIL: it proves
// the checkers catch divergence).
package scenarios
