// Package fault does things to a running harness.Cluster on purpose and
// proves that each one took effect: kill, stop (and restart), pause,
// partition and lag; link faults (latency with jitter, bandwidth caps,
// connection resets, packet loss, a slow link); clock skew; and replication-process
// faults (a walsender or apply worker terminated or cancelled, idle or
// inside a transaction; an apply worker or a walsender frozen; an apply
// worker made a deadlock's victim); a provider restarted gracefully;
// subscription restart cycles.
//
// Contract:
//   - A Mode is one kind of fault on one target (Kill, Stop, Pause,
//     Partition, PartitionPair, Lag, LinkLatency, LinkBandwidth, LinkReset,
//     SlowLink, LinkLoss, ClockSkew, KillWalsender, KillApply(InTxn),
//     StopApply, CancelApply, CancelWalsender, LockApply, StallProvider,
//     RestartProvider, SubRestartCycle, SubOptionCycle).
//     A Fault drives a Mode through Inject -> WaitEffective -> Heal ->
//     WaitHealed, in the manner of
//     roachtest's failure-injection Failer: a call out of order (Heal
//     before Inject, Inject twice, ...) is refused with ErrOutOfOrder and
//     does not touch the cluster; a failed Inject or Heal leaves the fault
//     Invalid, from which only Heal (best-effort cleanup) is allowed.
//   - The effect and heal checks observe the cluster and never trust that
//     the action ran: a Mode whose Inject does nothing fails WaitEffective
//     with ErrNotEffective (the no-op control in the tests proves it for
//     every mode). Every check is bounded (Fault.EffectTimeout, HealTimeout).
//   - Every phase is recorded in the history (Recorder.Fault; nil allowed):
//     start (before the action, with StartDetail), effective, heal, healed,
//     each with the targets and what was observed.
//   - The seed chooses the victim, a survivor and the time (NewPlan); the
//     same seed and config give the same Plan and the same Plan.String().
//   - Every kind embeds base (base.go, roachtest's GenericFailure as the
//     model): Kind, Node and Targets, the node it acts on, and the
//     one-connection query helpers (queryRow, execOne, liveAmong), so that
//     a new kind is its constructor, StartDetail and the four phases.
//
// Decisions where the design is silent sit at the top of the file that
// carries them (container.go: kill and stop; pause.go; partition.go;
// lag.go; link.go; loss.go; clock.go; process.go; restart.go; moment.go;
// probe.go: markers; hostkill.go; midtxn.go; direct.go). One holds for
// every kind:
//   - Nothing runs inside a node: every command a fault needs (ip, nft,
//     pg_isready, kill, cat /proc/<pid>/stat, the clock's offset file)
//     runs in a short-lived helper container of the tools image that joins
//     the node's network and pid namespaces (harness.RunTool), so a node
//     needs no tool, no root and no capability. Routes and nftables rules
//     belong to the node's namespace and outlive the helper; Heal removes
//     them with another one.
//
// It does not run workloads or judge results; a Fault is not reusable
// across clusters.
package fault
