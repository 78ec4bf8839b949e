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
// Decisions: the load runs for its duration AND until the plan's last
// step is done plus 2 s, so a step delayed by a slow machine still happens
// under load. A kill is followed at once by detect (the kill's effect
// check) and recover (the strategy, on the nodes still alive), while the
// load goes on; quiesce heals the lags whose both ends survived, then
// waits for every subscription among the survivors and a barrier. A harness
// error gives verdict unknown, never pass; Ctrl-C still writes the run
// directory. The large transaction of kill-mid-large-txn asks for a
// 100 ms commit_delay and the kill goes out the moment COMMIT does: it
// lands before the commit is durable or while the peers receive it (see
// steps.go). Through the load a slots.Keeper advances the recovery
// slots every 0.1 s, without barriers and also while a lag, a pause or a
// partition is in force, to the oldest point a member may still need
// (slots.go, recorded in run.json as slot_keeper): a recovery then decodes
// a fraction of a second of WAL, not the whole run (its samples also
// place each recovery's stream), and steps never wait for it. Beside it a
// slots.Standby keeps a session and a replication connection open to
// every node (standby.go), which the next recovery takes instead of
// logging in. Each
// kill's recovery time (kill to every survivor level: detect + recover)
// is recorded in results.json as recovery_times (recover.go).
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
// replication-health (replication_health.go; the decision is
// verify.JudgeReplicationHealth) is live only: it samples the survivors'
// subscription statuses (waiting at most replHealthWait for reconnecting
// ones), takes the fault windows that disabled subscriptions on purpose
// from the history, and reads the subscribers' server logs (and Spock's
// exception_log) for the reason of a failure.
// exception-audit (exception_audit.go; the decision and its rule are
// verify.JudgeExceptionAudit) reads spock.exception_log, and
// spock.resolutions where spock.save_resolutions is on, on the survivors
// and judges every row against the tables the history's workload writes
// from several nodes (verify.ContendedTables); its capture goes into the
// observation (observation.json), so `spockchaos check DIR` re-judges it.
// On pglogical it is skipped ("not applicable"), never a pass.
// At the report phase, once the server logs are collected, every
// divergence class gets its server evidence (evidence.go,
// verify.FindEvidence) in run.json's "evidence", from the logs and the
// exception_log rows exception-audit read.
//
// Link, clock and replication-process fault steps (steps_faults.go)
// start the cluster with what they need, decided from the plan: link
// proxies (harness.Config.LinkProxies) when a step acts on a link,
// libfaketime (harness.Config.ClockSkew) when one skews a clock. Each
// such step is injected, confirmed, held, healed and confirmed healed
// before the next; the slow link, like the lag, stays until quiesce or
// its origin's death. The chaos plan (chaos.go) draws them all.
//
// Provider and subscription fault steps (steps_provider.go):
// restart-provider restarts Node gracefully and stall-provider freezes
// Peer's walsender to Node for Hold, each right after a 100,000-row
// transaction committed on the provider and once a subscriber's apply
// worker is inside it (a miss is noted in the fault's detail, not an
// error); sub-restart-cycle and sub-option-cycle restart Node's apply
// worker for Peer three times (disable/enable; an interface switch of
// the same DSN). Each is confirmed, healed and confirmed healed before
// the next. They are not in the chaos draw: a new kind there changes
// every seed's chaos plan, and the recorded chaos findings cite seeds.
//
// Overlapping faults (group.go, overlap.go): a held step (pause,
// partition, crash-restart, the link, clock and worker faults: a kind
// whose stepKinds entry has parts) marked Overlap joins the group of the
// step before it: it is injected and confirmed at its own At while the
// others are in force, and the group heals together once its last hold
// has passed: every heal action first (latest fault first), then every
// heal confirmed (once every node it restarted accepts connections), so
// that no heal check waits on a fault still in force or a node starting.
// Every held step, overlapping or not, is a group, and a group heals
// every fault it injected on every path: its holds passing, a failed
// inject or effect check of any of them, the run's timeout or a signal
// (then the heal actions only, bounded by stopHealTimeout; the cluster
// goes next). A later fault's effect is checked with the earlier ones in
// force, so which pairs may overlap is decided by overlapRefusal, by
// family of kind (halt, partition, worker, clock; link faults and kinds
// without a family never overlap) and by the nodes and links each
// touches; CheckPlan refuses the rest before anything starts (Resolve,
// with exit 2) and Register checks each catalog plan for 20 seeds. A
// multi-node step (Step.Nodes: pause or crash-restart every node named,
// together; partition every pair among them) is one fault per node or
// pair, each with its own effect and heal checks, healed as a group.
// The printed plan marks an overlapping step "& " and names every node
// of a multi-node step; run.json's plan gains overlap and nodes only
// where set, and its faults stay one entry per node (start, end), so
// their windows show the overlap to every reader.
//
// Apply-worker fault steps (steps_worker.go): cancel-apply,
// cancel-walsender and kill-apply take Step.When ("idle", "in-txn"; ""
// is wherever it lands, and is what old plans hold; CheckPlan refuses a
// moment a kind has not); lock-apply makes Node's apply worker for Peer
// a deadlock's victim and holds the rows for Hold. In a transaction
// under the ledger workload, the transaction is a recorded 30,000-row
// large-txn op of Peer's (partsOf, fault.WithLargeTxn), which the
// checkers judge. Not in the chaos draw, nor in an overlap family.
//
// A rejoin step (rejoin.go) brings a node killed and recovered earlier
// back: restart, the survivors' subscriptions from it enabled again, the
// whole mesh replicating and a barrier; it then counts as alive, so every
// checker judges it too. Before and after, the survivors' ledger rows of
// that node (their xmin) and the conflicts their servers logged on them
// are read: the rejoined checker fails on any row applied again, naming
// it. StepRewindProgress breaks recovery's bookkeeping on purpose, for the
// spec that proves the check can fail.
//
// Interruptions: SIGINT or SIGTERM (a harness.Interrupt cause on ctx) and
// the run's timeout (the scenario's, or Options.Timeout) stop the run in
// whatever phase it is; the innermost phase (fault, detect and recover run
// inside load) is noted the moment it happens and stored in run.json as
// interrupted {phase, by, at}, the error says "interrupted by SIGTERM in
// phase recover" or "run timeout 45s exceeded in phase load", and the
// verdict is unknown, also when the signal comes during the report phase
// (which still writes everything, on a context of its own, bounded). The
// cluster is removed; --keep keeps it after a timeout (a hang to inspect)
// but not after a signal. The run id is made before the cluster starts, so
// run.json names it even when the run stopped inside harness.Start.
// Options.HoldPhase ($SPOCKCHAOS_HOLD_PHASE) is a test hook that holds the
// run in one phase (up: once its containers run) until it is stopped, so
// that the per-phase signal specs hit the phase they name every time.
//
// A scenario can carry KnownFindings (finding.go): defects of one flavor,
// proven there, that it can hit. replication-process-faults (its
// kill-apply), rejoin-after-recovery (the fence's sub_disable, then
// the rejoin's enable), chaos and chaos-bank (their apply-worker faults
// and the restarts around a partition's heal) and provider-faults (the
// worker kills of its sub_disable and interface switch) carry SpockDiscardAfterTerm: on Spock 6.0 an apply
// worker ended by SIGTERM inside a transaction leaves that transaction's
// commit_lsn in its shared exception-log entry, and the next worker
// discards the resent transaction under exception_behaviour transdiscard
// (README, Testing a Spock build, has the LSNs). apply-worker-faults
// carries every Spock finding (SpockFindings): also SpockDiscardAfterCancel
// (a cancelled apply, SQLSTATE 57014, discarded; 5.0.x and 6.0) and
// SpockDiscardDeadlockVictim (a deadlock's victim discarded; 5.0.x). On
// that flavor the Spock suite accepts the expected verdict or a FAIL the
// scenario's findings explain together, row for row (Explain: each node
// lacking a class's rows logged, in a discard line one of the findings
// owns, in any release's wording, the discard of its first and last
// transactions, and its discards in between changed at least as many
// rows); the CLI says which findings.
//
// Row-race scenarios (catalog_rowrace.go, issue 27) combine the row-race
// workloads with a fault: toast-crash-restart (wide rows with out-of-line
// values updated from every node while a node crashes and restarts) is a
// control that expects FAIL on pglogical 2: an update that leaves the
// large columns unchanged ships them as unchanged TOAST, and a subscriber
// applying it keeps its own large values whatever won, so rows diverge in
// doc and blob (the convergence checker names them).
// unique-conflict-crash-restart (inserts of fresh keys with the same
// unique values from every node) expects every node to hold the same key
// per value (verify's unique-conflict checker). Faults there: a kill's
// reference recovery cannot replay such a table (its plain INSERT meets
// the survivor's row for the value: duplicate key, measured), and a
// partition's or slow link's heal check times out under the load's
// apply errors and backlog, so the scenario crashes and restarts a node;
// it is in the gate (about 25 s).
// pk-race-crash-restart (primary-key moves, updates, deletes, inserts of
// 12 keys from every node) runs on Spock only and expects FAIL there
// (Spock 6.0 discards the update that lost its row and skips a delete
// older than the local tuple: measured divergence); on pglogical 2 its
// apply stops for good on a duplicate primary key, so no verdict can be
// reached (the catalog spec skips a scenario whose Flavors exclude
// pglogical). delta-counter-crash-restart adds to 4 counters from every
// node; on Spock with delta apply every node must hold the sum of the
// acknowledged increments (verify's delta-counter), on pglogical that
// checker is skipped ("not applicable: pglogical has no delta apply")
// and convergence judges.
//
// Server settings: a Spec may declare Settings its nodes need (checked at
// registration on every flavor it runs on); Options.Settings (--set) are
// laid over them, and resolve keeps the merge, refused before anything
// starts when the flavor does not know a setting or the harness needs
// another value (harness.CheckSettings). The merge is what ran: run.json
// settings, each node's SHOW of it (nodes[].settings), and --set words in
// the replay command.
//
// The Ginkgo suite in this package runs the catalog by label (gate,
// nightly, release); a spec passes when the run's verdict is the one the
// scenario expects (kill-without-recovery is expected to FAIL: it proves
// the checkers catch divergence).
package scenarios
