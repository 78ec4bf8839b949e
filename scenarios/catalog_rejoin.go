package scenarios

import (
	"time"

	"github.com/spockchaos/spockchaos/verify"
)

func init() {
	Register(&Spec{
		Name: "rejoin-after-recovery", Description: "a survivor lags behind the victim, the victim dies mid-load, its transactions are recovered on the survivors, then it is restarted and resubscribed: it catches up, no row is applied twice anywhere, and all nodes, it included, converge",
		Labels: []string{LabelGate, LabelNightly}, Nodes: 3, Timeout: 6 * time.Minute,
		Workload: "ledger", ClientsPerNode: 2, Load: 10 * time.Second, Recovery: "auto",
		Checkers: append([]string{CheckRecovered, CheckRejoined}, allCheckers...), Expect: verify.Pass,
		// On Spock 6.0 recovery's fence (sub_disable(sub, true): SIGTERM
		// of the apply worker) can land while a survivor's worker is
		// inside one of the victim's transactions; when the rejoin enables
		// that subscription again the victim resends the transaction and
		// the new worker discards it (SpockDiscardAfterTerm): it stays on
		// the victim and the survivors that got it from the victim.
		// The victim's restart is a crash recovery: it can apply again
		// what it applied just before the kill (SpockDoubleApplyAfterCrash;
		// pgEdge-layout 6.0 seed 7: n3, 2 transactions of n1).
		KnownFindings: []Finding{SpockDiscardAfterTerm, SpockDoubleApplyAfterCrash},
		Faults:        RejoinAfterRecovery,
	})
}

// RejoinAfterRecovery is laggedKill, then the victim's rejoin late in the
// load (after its recovery: steps run in order).
func RejoinAfterRecovery(r Rand, nodes []string, load time.Duration) []Step {
	steps := laggedKill(r, nodes, load)
	return append(steps, Step{At: load * 85 / 100, Kind: StepRejoin, Node: steps[1].Node})
}
