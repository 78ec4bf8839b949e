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
// Decisions where the design is silent:
//   - Kill and stop leave the container in place (logs and data directory
//     stay for artifacts); their Heal is the restart: the container is
//     started again, Node.DSN is rewritten for the new published port (the
//     engine allocates one on every start), and the node is healed when it
//     accepts connections and every subscription between it and the other
//     live nodes is replicating. pglogical's manager restarts an apply
//     worker that failed while its provider was down only on a later scan
//     (over 80 s was seen); harness.Cluster.WaitLinks re-enables a
//     subscription that stays down, which starts its worker at once.
//     Restart does the same without a Fault.
//   - Stop sends SIGTERM, which PostgreSQL treats as a smart shutdown: it
//     waits for client sessions to end. Its effect check requires exit code
//     0, so a stop with clients still connected times out instead of
//     silently turning into a kill.
//   - Pause is docker pause; its effect: a SELECT 1 that times out (not
//     refused) while the container reports paused.
//   - Nothing runs inside a node: every command a fault needs (ip, nft,
//     pg_isready, kill, cat /proc/<pid>/stat, the clock's offset file)
//     runs in a short-lived helper container of the tools image that joins
//     the node's network and pid namespaces (harness.RunTool), so a node
//     needs no tool, no root and no capability. Routes and nftables rules
//     belong to the node's namespace and outlive the helper; Heal removes
//     them with another one.
//   - Partition adds blackhole routes (ip route, from helpers) on both
//     sides of every cut link, to the peers' addresses on the run
//     network. The host reaches a node through the network gateway, so
//     clients keep writing on every side. Its effect is checked by
//     pg_isready from the node to each peer failing and a marker written on
//     the node reaching no peer for DefaultPartitionWindow.
//   - Lag disables the receiver's one subscription from the origin. Its
//     effect: a marker written on the origin reaches every other node but
//     not the receiver for DefaultLagWindow. The SQL is chosen by flavor
//     name (pglogical or spock), as harness.Flavor has no statement for it.
//   - Partition on a cluster with link proxies also stops the proxies of
//     the cut links (they run on the host, which no route inside a node
//     cuts); Heal restarts them on the same ports.
//   - Link faults need a cluster started with harness.Config.LinkProxies:
//     every subscription then connects through its own Toxiproxy proxy
//     (harness.LinkProxies). A fault acts on one link (the changes of peer
//     to node, "downstream": one direction) or on every link of a node
//     (both directions). Latency and bandwidth prove themselves by marker
//     arrival times: a marker written on each provider of a faulted link
//     (64 KB of bulk for bandwidth) must cross every faulted link at least
//     half the configured extra time later than it crosses the slowest
//     unfaulted link at the same moment (when every link is faulted: than
//     before the fault, measured by Inject); both figures are recorded
//     (arrival_ms_before, arrival_ms_during). Resets and the slow link
//     prove themselves by a marker that crosses every unfaulted link but no
//     faulted one for a window; the slow link also requires the faulted
//     subscription to stay replicating (a lag without a disabled
//     subscription: recovery scenarios use it as their lag).
//   - LinkLoss drops a random share of a link's packets in the
//     subscriber's network namespace (nftables numgen random, matched by the link's source
//     address and port; no proxy needed): Toxiproxy works on streams and
//     has no packet loss. Its effect: the rule's counter shows dropped
//     packets of each faulted link while a 64 KB marker crosses it, and
//     the marker still arrives (TCP retransmits).
//   - ClockSkew needs harness.Config.ClockSkew (libfaketime preloaded,
//     offset file rewritten at run time; harness.ClockSkewSupport). Its
//     effect: clock_timestamp() on the node is off by the offset while a
//     peer's is not, a marker committed on the node carries a commit
//     timestamp off by the offset as the peer has it, and, on pglogical, a
//     peer's commit applied on the skewed node keeps the peer's stamp
//     (Spock restamps it: recorded, not required; appliedKeepsOriginStamp).
//     Spock keeps commit stamps monotonic across the cluster, so there a
//     node's own commits may stay stamped up to the run's furthest skew
//     ahead (ownStampOK, Cluster.PeakClockOffset).
//   - Replication-process faults end one backend with SIGTERM
//     (pg_terminate_backend): a SIGKILL of any backend makes the postmaster
//     restart them all, which is a node crash (Kill). The process is
//     sampled before Inject (StartDetail), so a no-op Inject leaves it in
//     pg_stat_replication / pg_stat_activity and fails the check. A frozen
//     apply worker (SIGSTOP) is proven by state T in /proc, a marker that
//     does not reach its node while the subscription still reports
//     replicating; Heal sends SIGCONT. Signals and /proc are the helper's,
//     which shares the node's pid namespace.
//   - Provider and subscription faults (restart.go, subcycle.go;
//     StallProvider is the walsender's StopApply). RestartProvider's
//     Inject is the whole restart (SIGINT to the postmaster: a fast
//     shutdown, which took ~5 s with a large transaction streaming; then
//     start): its proof is a new pg_postmaster_start_time(), the server
//     log since the fault (fast shutdown request, "database system is shut
//     down", a start with no crash recovery) and, healed, a new walsender
//     per subscriber. The cycles do their N restarts in Inject, sampling
//     the apply worker's pid after each; the effect check judges those
//     samples and the pid now (judgeCycles). The option that restarts a
//     worker without changing what it replicates is the provider
//     interface: a second one with the same DSN, switched to and back
//     (both flavors kill the worker at commit). WaitApplyInTxn lets a
//     caller land a fault while a subscriber applies a large transaction.
//   - A worker fault's Moment (idle, in-txn) is chosen from
//     pg_stat_activity samples (linkSample) and recorded as at_signal.
//     In-txn writes a large transaction on the provider (or the caller's,
//     WithLargeTxn); a cancel of the apply worker is held inside one by a
//     local session's row lock instead (heldRow, WithHeldTxn): pglogical
//     acts on a cancel only in a wait. Cancels and the deadlock are proven
//     by their server log line from the pid, lock-apply also by pg_locks;
//     a lost transaction's heal error quotes the subscriber's discard line.
//   - Markers are rows "fault-<kind>-<hex>" of the harness's replicated
//     spockchaos.barrier: no user table is touched.
//   - A SIGKILL goes straight to the container's init process (kill(2)
//     from this host; the kernel then ends every process of the
//     container, the engine records exit code 137) when the engine runs
//     on this host and the process's cgroup names the container, checked
//     again right before the signal. The engine's own kill took 95-120 ms
//     here, too slow to land inside a COMMIT. Otherwise (a remote engine,
//     no permission) the kill goes through the engine. The effect event
//     records which: signal_via "host" or "engine".
//   - KillInFlight kills once the recorder shows an op in flight on the
//     node and records the number in flight, sampled right before the
//     signal is sent, as in_flight_at_kill in the kill's start event (an op
//     may still be acknowledged while the signal is on its way, so it is
//     an upper bound). KillOnSignal kills a delay after a signal, e.g. one
//     closed right before a client sends COMMIT. Both resolve the host
//     process before they wait, so the kill itself is one syscall.
//   - KillNow, StartNode/StartAgain, Disable and Enable (direct.go) are
//     the same mechanics without a Fault's lifecycle or effect check, for
//     what sets a situation up rather than injects a fault (bench, the
//     rejoin step, recovery's specs through recoverytest): one place for
//     each kill, restart, lag and resubscription.
//
// It does not run workloads or judge results; a Fault is not reusable
// across clusters.
package fault
