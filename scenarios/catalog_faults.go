package scenarios

import (
	"time"

	"github.com/spockchaos/spockchaos/verify"
)

// Scenarios of issue 14: link faults through the link proxies, clock skew,
// replication-process faults, the bank and YCSB workloads, and the chaos
// mix. Two cheap ones are in the gate; the rest are nightly or release.

func init() {
	Register(&Spec{
		Name: "bank-slow-link-recovery", Description: "bank transfers; one survivor gets the victim's changes through a slow link (its subscription still replicating), the victim dies mid-load; recovery moves the missing transfers and every survivor keeps every owner's total",
		Labels: []string{LabelGate, LabelNightly}, Nodes: 3, Timeout: 6 * time.Minute,
		Workload: "bank", ClientsPerNode: 2, Load: 10 * time.Second, Recovery: "auto",
		Checkers: append([]string{CheckRecovered}, allCheckers...), Expect: verify.Pass,
		Faults: slowLinkKill,
	})
	Register(&Spec{
		Name: "replication-process-faults", Description: "terminate the walsender serving one peer, terminate one apply worker, freeze another apply worker and thaw it, under load; each link recovers and everything converges",
		// Nightly, not gate: once in make test on a loaded machine
		// (2026-12-02), n2 stopped answering new connections for 90 s after
		// its apply worker was terminated (healing not observed: "failed to
		// receive message: timeout"), cause not found; the faults' own
		// specs in harness/fault stay in make test.
		Labels: []string{LabelNightly}, Nodes: 3, Timeout: 6 * time.Minute,
		Workload: "ledger", ClientsPerNode: 2, Load: 10 * time.Second, Recovery: "auto",
		Checkers: allCheckers, Expect: verify.Pass,
		// On Spock 6.0 the kill-apply step ends an apply worker with
		// SIGTERM; when that lands between a transaction's BEGIN and
		// COMMIT the next worker discards the transaction (measured: n2
		// lost n1's xid 19225, commit end 0/2B97D60, its 5 rows in
		// spock.exception_log as transdiscard). See SpockDiscardAfterTerm.
		KnownFindings: []Finding{SpockDiscardAfterTerm},
		Faults: func(r Rand, nodes []string, load time.Duration) []Step {
			a := pick(r, nodes)
			b := pick(r, nodes, a)
			c := pick(r, nodes, b)
			return []Step{
				{At: jitter(r, load/10, load/20), Kind: StepKillWalsender, Node: a, Peer: b},
				{At: jitter(r, load*3/10, load/20), Kind: StepKillApply, Node: b, Peer: c},
				{At: jitter(r, load*5/10, load/20), Kind: StepStopApply, Node: c, Peer: pick(r, nodes, c), Hold: 2 * time.Second},
			}
		},
	})
	Register(&Spec{
		Name: "provider-faults", Description: "under ledger load, a provider restarted gracefully (fast shutdown) while a peer applies its 100,000-row transaction, a provider's walsender frozen inside such a transaction and thawed, one subscription disabled and enabled three times, another switched between two interfaces of its provider three times; each link recovers and everything converges",
		Labels: []string{LabelNightly}, Nodes: 3, Timeout: 8 * time.Minute,
		Workload: "ledger", ClientsPerNode: 2, Load: 30 * time.Second, Recovery: "auto",
		Checkers: allCheckers, Expect: verify.Pass,
		// On Spock 6.0 both cycles end the apply worker with SIGTERM
		// (sub_disable immediate; sub_alter_interface kills it at
		// commit); inside a transaction, the next worker discards it
		// (seeds 1 and 2: n3 logged "Transaction discarded in
		// TRANSDISCARD mode at LSN 0/6FB5BF0" for n2's xid 29301,
		// committed 05:39:09.097, whose 5 rows n3 lacked; n2 lost one
		// after sub-option-cycle too). Timing decides: of 6 runs (seeds
		// 1, 2, 3, 7) 4 FAILed so, every missing row explained; none lost
		// anything around restart-provider or stall-provider. See
		// SpockDiscardAfterTerm.
		KnownFindings: []Finding{SpockDiscardAfterTerm, SpockSubDisableLosesTxn, SpockDiscardModeLogsApplied},
		Faults: func(r Rand, nodes []string, load time.Duration) []Step {
			a := pick(r, nodes)
			b := pick(r, nodes, a)
			return []Step{
				{At: jitter(r, load/10, load/20), Kind: StepRestartProvider, Node: a},
				{At: jitter(r, load*3/10, load/20), Kind: StepStallProvider, Node: a, Peer: b, Hold: 3 * time.Second},
				{At: jitter(r, load*5/10, load/20), Kind: StepSubRestartCycle, Node: b, Peer: pick(r, nodes, b)},
				{At: jitter(r, load*7/10, load/20), Kind: StepSubOptionCycle, Node: pick(r, nodes, a), Peer: a},
			}
		},
	})
	Register(&Spec{
		Name: "apply-worker-faults", Description: "under ledger load, cancel a walsender idle and inside a large transaction, cancel an apply worker held inside a transaction, terminate an apply worker inside a large transaction, make an apply worker a deadlock's victim of a local session; each link recovers, every large transaction arrives whole and everything converges",
		Labels: []string{LabelNightly}, Nodes: 3, Timeout: 8 * time.Minute,
		Workload: "ledger", ClientsPerNode: 2, Load: 30 * time.Second, Recovery: "auto",
		Checkers: allCheckers, Expect: verify.Pass,
		// On Spock its in-txn steps hit every Spock finding on purpose
		// (measured, seed 7, 2026-12-06): the next worker after the
		// kill-apply's SIGTERM discards the transaction
		// (SpockDiscardAfterTerm, 6.0); the worker discards the held
		// 30,000-row large-txn op whose apply cancel-apply cancelled
		// ("... Initial error: [SQLSTATE 57014] canceling statement due
		// to user request", SpockDiscardAfterCancel, 5.0.11 and 6.0); on
		// 5.0.11 it discards lock-apply's deadlock victim ("transaction
		// discarded (TRANSDISCARD) ... [SQLSTATE 40P01] deadlock
		// detected", SpockDiscardDeadlockVictim; 6.0 retries it). Each
		// held transaction is a recorded large-txn op, so a discard is
		// lost rows the checkers judge and Explain attributes, not a heal
		// that waits for them.
		KnownFindings: SpockFindings,
		Faults:        applyWorkerFaults,
	})
	Register(&Spec{
		Name: "slow-link-recovery", Description: "the lagged kill with the lag made by a slow link instead of a disabled subscription; recovery moves the victim's transactions to the lagging survivor and the survivors converge",
		Labels: []string{LabelNightly, LabelRelease}, Nodes: 3, Timeout: 6 * time.Minute,
		Workload: "ledger", ClientsPerNode: 2, Load: 12 * time.Second, Recovery: "auto",
		Checkers: append([]string{CheckRecovered}, allCheckers...), Expect: verify.Pass,
		Faults: slowLinkKill,
	})
	Register(&Spec{
		Name: "bank-link-faults", Description: "bank transfers while one node's links are slow, one link is capped, one link's connections are reset, a node loses 30% of its incoming packets and a node is partitioned; after healing every node keeps every owner's total",
		Labels: []string{LabelNightly, LabelRelease}, Nodes: 3, Timeout: 8 * time.Minute,
		Workload: "bank", ClientsPerNode: 2, Load: 25 * time.Second, Recovery: "auto",
		Checkers: allCheckers, Expect: verify.Pass,
		Faults: func(r Rand, nodes []string, load time.Duration) []Step {
			a := pick(r, nodes)
			b := pick(r, nodes, a)
			return []Step{
				{At: jitter(r, load/20, load/20), Kind: StepLinkLatency, Node: a, Amount: 500 * time.Millisecond, Hold: 3 * time.Second},
				{At: jitter(r, load/4, load/20), Kind: StepLinkBandwidth, Node: b, Peer: a, Hold: 3 * time.Second},
				{At: jitter(r, load*2/5, load/20), Kind: StepLinkReset, Node: a, Peer: b, Hold: 2 * time.Second},
				{At: jitter(r, load/2, load/20), Kind: StepLinkLoss, Node: b, Hold: 3 * time.Second},
				{At: jitter(r, load*3/5, load/20), Kind: StepPartition, Node: pick(r, nodes), Hold: 3 * time.Second},
			}
		},
	})
	Register(&Spec{
		Name: "ycsb-a-baseline", Description: "YCSB workload a (half updates of shared keys from every node) with true clocks and no fault: last-update-wins converges every node to the same rows (the control of ycsb-a-clock-skew)",
		Labels: []string{LabelNightly, LabelRelease}, Nodes: 3, Timeout: 5 * time.Minute,
		Workload: "ycsb-a", ClientsPerNode: 2, Load: 20 * time.Second, Recovery: "auto",
		Checkers: allCheckers, Expect: verify.Pass,
	})
	Register(&Spec{
		Name: "ycsb-a-clock-skew", Description: "YCSB workload a (half updates of shared keys from every node) while one node's clock runs 30 s ahead, then another's 20 s behind: last-update-wins diverges (a local update stamped earlier than the version it overwrites stays on its node and loses on every peer); the checkers MUST name the diverged keys (expects FAIL)",
		Labels: []string{LabelNightly, LabelRelease}, Nodes: 3, Timeout: 6 * time.Minute,
		Workload: "ycsb-a", ClientsPerNode: 2, Load: 20 * time.Second, Recovery: "auto",
		// Found by this scenario on pglogical 2.4 (seed 11: 81 of 1,000
		// rows diverged): the apply resolves a remote change against the
		// local row by commit timestamp, but a local update is never
		// judged, so a skewed clock stamps it older than what it replaced.
		Checkers: allCheckers, Expect: verify.Fail,
		Faults: func(r Rand, nodes []string, load time.Duration) []Step {
			ahead := pick(r, nodes)
			return []Step{
				{At: jitter(r, load/10, load/20), Kind: StepClockSkew, Node: ahead, Amount: 30 * time.Second, Hold: 6 * time.Second},
				{At: jitter(r, load/2, load/20), Kind: StepClockSkew, Node: pick(r, nodes, ahead), Amount: -20 * time.Second, Hold: 4 * time.Second},
			}
		},
	})
	Register(&Spec{
		Name: "ycsb-f-link-faults", Description: "YCSB workload f (read-modify-write) under a slow link, a frozen apply worker, then a slow link to a survivor and the kill of its origin; recovery, and the survivors converge",
		Labels: []string{LabelNightly, LabelRelease}, Nodes: 3, Timeout: 6 * time.Minute,
		Workload: "ycsb-f", ClientsPerNode: 2, Load: 20 * time.Second, Recovery: "auto",
		Checkers: allCheckers, Expect: verify.Pass,
		Faults: func(r Rand, nodes []string, load time.Duration) []Step {
			a := pick(r, nodes)
			steps := []Step{
				{At: jitter(r, load/20, load/20), Kind: StepLinkLatency, Node: a, Peer: pick(r, nodes, a), Amount: 800 * time.Millisecond, Hold: 3 * time.Second},
				{At: jitter(r, load/4, load/20), Kind: StepStopApply, Node: pick(r, nodes, a), Peer: a, Hold: 2 * time.Second},
			}
			for _, s := range slowLinkKill(r, nodes, load) {
				s.At = max(s.At, load/2)
				steps = append(steps, s)
			}
			return steps
		},
	})
	Register(&Spec{
		Name: "chaos", Description: "Jepsen's combined nemesis: a seeded random sequence of every fault (partition, pause, crash-restart, link latency, bandwidth, resets and packet loss, clock skew, walsender and apply-worker kills, a frozen apply worker) over a long load, ending with a lagged kill; recovery; the survivors converge and keep every acknowledged write",
		Labels: []string{LabelNightly, LabelRelease}, Nodes: 3, Timeout: 15 * time.Minute,
		Workload: "ledger", ClientsPerNode: 2, Load: 90 * time.Second, Recovery: "auto",
		Checkers: append([]string{CheckRecovered}, allCheckers...), Expect: verify.Pass,
		// Its kill-apply and stop-apply steps, and the subscription
		// restarts around a partition's heal, can end an apply worker
		// inside a transaction (measured on Spock 6.0, seed 7: n1 logged
		// "falling out of apply_work() sigterm=true", then "Transaction
		// discarded in TRANSDISCARD mode" for n2's transaction whose 5
		// rows n1 lacked). See SpockDiscardAfterTerm. Its crash-restarts
		// can hit SpockDoubleApplyAfterCrash.
		KnownFindings: []Finding{SpockDiscardAfterTerm, SpockDoubleApplyAfterCrash},
		Faults:        chaosPlan,
	})
	Register(&Spec{
		Name: "chaos-bank", Description: "the chaos mix over bank transfers: every survivor keeps every owner's total",
		Labels: []string{LabelNightly, LabelRelease}, Nodes: 3, Timeout: 15 * time.Minute,
		Workload: "bank", ClientsPerNode: 2, Load: 90 * time.Second, Recovery: "auto",
		Checkers: append([]string{CheckRecovered}, allCheckers...), Expect: verify.Pass,
		// Its kill-apply and stop-apply steps, and the subscription
		// restarts around a partition's heal, can end an apply worker
		// inside a transaction (measured on Spock 6.0, seed 7: n1 logged
		// "falling out of apply_work() sigterm=true", then "Transaction
		// discarded in TRANSDISCARD mode" for n2's transaction whose 5
		// rows n1 lacked). See SpockDiscardAfterTerm. Its crash-restarts
		// can hit SpockDoubleApplyAfterCrash.
		KnownFindings: []Finding{SpockDiscardAfterTerm, SpockDoubleApplyAfterCrash},
		Faults:        chaosPlan,
	})
}

// slowLinkKill is laggedKill with the lag made by a slow link: the
// lagging survivor's subscription to the victim stays replicating, it
// only gets the victim's changes late and slowly.
func slowLinkKill(r Rand, nodes []string, load time.Duration) []Step {
	steps := laggedKill(r, nodes, load)
	steps[0].Kind = StepSlowLink
	return steps
}

// applyWorkerFaults is each apply-worker fault once, on seeded links. An
// idle cancel of the apply worker is left out: pglogical refuses it (its
// idle worker never acts on a cancel).
func applyWorkerFaults(r Rand, nodes []string, load time.Duration) []Step {
	link := func() (string, string) {
		n := pick(r, nodes)
		return n, pick(r, nodes, n)
	}
	at := func(tenths int64) time.Duration { return jitter(r, load*time.Duration(tenths)/10, load/20) }
	var steps []Step
	for i, s := range []Step{
		{Kind: StepCancelWalsender, When: "idle"},
		{Kind: StepCancelWalsender, When: "in-txn"},
		{Kind: StepCancelApply, When: "in-txn", Hold: 2 * time.Second},
		{Kind: StepKillApply, When: "in-txn"},
		{Kind: StepLockApply, Hold: 2 * time.Second},
	} {
		s.Node, s.Peer = link()
		s.At = at(int64(1 + 2*i))
		steps = append(steps, s)
	}
	return steps
}
