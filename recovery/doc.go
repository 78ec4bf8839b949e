// Package recovery is the contract of recovering a failed node's
// transactions on the survivors, and the rules that keep it safe.
//
// Contract:
//   - A Strategy takes an Input of DSNs (no live cluster object: any set
//     of reachable servers) and always returns a Result, with an error
//     when any step failed; errors name the step and the node. A Result
//     states what was moved, or that there was nothing to move
//     (NothingToRecover), or (None) that nothing was attempted.
//   - The strategies: reference (recovery/reference, the harness's own
//     slot-based recovery on stock PostgreSQL, DESIGN.md section 5), spock
//     (recovery/spock, Spock's runbooks by detected API), none (the
//     control: never claims there was nothing to recover) and Auto (spock
//     when the flavor is spock and an API is found, else reference; the
//     note says which and why). recovery/strategies looks them up by name.
//   - Background services beside a run (recovery/slots): PrepareSlots
//     creates the recovery slots, a Keeper advances them through the
//     load, a Standby keeps connections open ahead. A strategy sees them
//     only through Input (Pauser, ConnsAhead, Survivor.Samples).
//   - The safety rules (rules.go, each with its proof and its table
//     test): what a recovery slot may drop (NextSlotPosition), where a
//     recovery may start decoding (StreamStart), when a floor message is
//     a proof point (FloorValid), when a stream holds every transaction a
//     target lacks (Covers), when a target's progress may move to the
//     source's (Completeness), and when a stream started before the fence
//     may serve the final plan (Reusable).
//   - Names (names.go): the publication, the recovery slots
//     spockchaos_<db>_<S>_<X> (not DESIGN.md's spock_<db>_recovery_<S>_<X>:
//     Spock's own recovery slots take that name), the floor and end
//     marker messages.
//
// Decisions where DESIGN.md is silent:
//   - The publication is FOR ALL TABLES (tables created later are
//     covered); recovery skips the schemas pglogical, spock and spockchaos
//     (replication bookkeeping and the harness barrier), so counts are
//     user transactions.
//   - PrepareSlots creates the slots for every flavor, Spock included:
//     the reference strategy (spock's fallback, and the oracle for Spock's
//     own recovery) needs them; they cost only retained WAL.
//   - Fenced subscriptions stay disabled: the failed node is dead, and
//     re-enabling is the scenario's decision once it returns.
//
// Measured figures and their history (decoding, round trips, bench rto)
// are in README.md, "Recovery slots and recovery time".
package recovery
