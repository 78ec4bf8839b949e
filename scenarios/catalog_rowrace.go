package scenarios

import (
	"time"

	"github.com/spockchaos/spockchaos/verify"
)

// Row-race scenarios (issue 27): the row-race workloads (toast,
// unique-conflict, pk-race, delta-counter) each combined with a fault.
// Each workload's races are what the scenario judges; the fault makes the
// replication catch up through them.
func init() {
	Register(&Spec{
		Name: "toast-crash-restart", Description: "every node updates the same 8 wide rows, mostly their small columns (the 4-20 kB out-of-line doc and blob travel as unchanged TOAST), sometimes rewriting a large one, while one node crashes and restarts; a subscriber that applies an update with unchanged TOAST keeps its own large values whatever won, so the rows diverge in doc and blob on pglogical 2: the checkers MUST name the keys (expects FAIL)",
		Labels: []string{LabelNightly}, Nodes: 3, Timeout: 6 * time.Minute,
		Workload: "toast", ClientsPerNode: 2, Load: 12 * time.Second, Recovery: "auto",
		// Measured on pglogical 2 (workload spec, 5 s, 16 keys): 10 rows
		// differed, each in doc and/or blob only, every node holding the
		// same commit timestamp for the row.
		Checkers: allCheckers, Expect: verify.Fail,
		Faults: func(r Rand, nodes []string, load time.Duration) []Step {
			return []Step{{At: jitter(r, load*7/10, load/10), Kind: StepRestart, Node: pick(r, nodes), Hold: 2 * time.Second}}
		},
	})
	Register(&Spec{
		Name: "unique-conflict-crash-restart", Description: "every node inserts fresh primary keys whose unique values come from the same 6 per 100 ms window, so nodes insert different keys with the same unique value at once, while one node crashes and restarts; every node ends holding the same key for each unique value (last-update-wins on the unique index) and the unique-conflict checker names any value they disagree on",
		Labels: []string{LabelNightly}, Nodes: 3, Timeout: 6 * time.Minute,
		Workload: "unique-conflict-no-delete", ClientsPerNode: 2, Load: 12 * time.Second, Recovery: "auto",
		Checkers: allCheckers, Expect: verify.Pass,
		Faults: func(r Rand, nodes []string, load time.Duration) []Step {
			return []Step{{At: jitter(r, load/4, load/10), Kind: StepRestart, Node: pick(r, nodes), Hold: 2 * time.Second}}
		},
	})
}
