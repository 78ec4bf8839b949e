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
// Capabilities: before anything starts, Needs maps the plan's steps and
// options to what they need from the image (capability), and a plan the
// image cannot carry out is refused in one line naming the step, the
// capability and the image (a *capability.Refused: a campaign skips the
// cell). Options.PG picks the PostgreSQL major of pglogical's image.
//
// Steps: stepKinds (steps.go) maps every step kind a plan may name to the
// function that does it and to what it needs of the cluster (links,
// clock); a new kind is one entry and one function. The runner writes the
// run record (package record) through its few calls (AddPhase,
// StartFault/EndFault, AddCheckers, AddRecoveryTime, Node) and converts
// recovery's results into it when it closes the record (record.go).
// Checkers: the registry in checkers.go maps each checker name a spec may
// list to how it runs live (T6) and, for those that need no cluster, on
// a stored run directory; Register refuses a spec naming another, and
// `spockchaos check DIR` re-runs the stored ones (RecheckStored).
//
// Interruptions: SIGINT, SIGTERM and the run's timeout stop the run in
// whatever phase it is; the verdict is unknown, run.json names the phase
// (interrupted), the run directory is still written and the cluster
// removed (interrupt.go).
//
// DDL under load (steps_ddl.go, catalog_ddl.go, issue 27): a ddl step
// runs, on Node, a script on the workload's table through the flavor's
// DDL replication (harness.Cluster.ReplicateDDL: Spock's AutoDDL,
// pglogical's replicate_ddl_command): a column with a default, an index
// on it, a new table, the default changed. Each statement is a "ddl" op
// in the history and the step a "ddl" entry in run.json's faults (end:
// when the script was on the last node). In the background each node,
// once the script reached it, writes rows into the new table and, under
// the ledger, sets the new column on ledger rows it wrote itself; a kill
// waits for that (the reference recovery replays rows, never DDL). The
// ddl checker fails on a survivor the script never reached or lacking an
// acknowledged row of the new table; schema-diff (in allCheckers)
// compares the survivors' catalogs.
//
// Server settings: a Spec may declare Settings its nodes need (checked at
// registration on every flavor it runs on); Options.Settings (--set) are
// laid over them, and resolve keeps the merge, refused before anything
// starts when the flavor does not know a setting or the harness needs
// another value (harness.CheckSettings). The merge is what ran: run.json
// settings, each node's SHOW of it (nodes[].settings), and --set words in
// the replay command.
//
// Decisions of each part sit at the top of its file: runner.go (phases,
// the slot keeper and standby), checkers.go (replication-health,
// exception-audit, evidence), steps_faults.go, steps_provider.go,
// steps_worker.go, group.go (overlapping faults), heal_disabled.go (a
// heal the server answered by disabling a subscription), rejoin.go,
// membership.go (nodes joining and leaving: add-node, remove-node, the
// membership checker), interrupt.go, finding.go (known findings) and
// catalog_*.go.
//
// The Ginkgo suite in this package runs the catalog by label (gate,
// nightly, release); a spec passes when the run's verdict is the one the
// scenario expects (kill-without-recovery is expected to FAIL: it proves
// the checkers catch divergence).
package scenarios
