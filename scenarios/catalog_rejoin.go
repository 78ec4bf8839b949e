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
		Faults: RejoinAfterRecovery,
	})
}

// RejoinAfterRecovery is laggedKill, then the victim's rejoin late in the
// load (after its recovery: steps run in order).
func RejoinAfterRecovery(r Rand, nodes []string, load time.Duration) []Step {
	steps := laggedKill(r, nodes, load)
	return append(steps, Step{At: load * 85 / 100, Kind: StepRejoin, Node: steps[1].Node})
}
