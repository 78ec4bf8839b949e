package scenarios

import (
	"time"

	"github.com/spockchaos/spockchaos/verify"
)

// DDL under load (issue 27, item 2): a node runs DDL on the ledger
// through the flavor's DDL replication (Spock: AutoDDL; pglogical:
// replicate_ddl_command) while the load runs, and faults hit around it.
// The schemas (schema-diff) and the rows (convergence, history, ddl)
// must converge.
//
// The kill in these plans never hits the node that ran the DDL before its
// DDL is everywhere (a kill waits for it: awaitDDL): the reference
// recovery replays the dead node's rows from a pgoutput slot and skips
// the pglogical and spock schemas, whose queue tables carry the DDL, so it
// cannot replay a DDL only the dead node had. The DDL node is
// crash-restarted instead, while its DDL travels.
func init() {
	// Measured: pass on pglogical (seeds 7, 8). Spock 6.0 (seed 7): DDL,
	// schema-diff, convergence and history pass, double-apply FAILs on the
	// crash-restarted node, which after the crash logged "reconcile: new
	// entry seeded at origin LSN ..." and applied 8 transactions it had
	// committed before the crash again (the same as plain crash-restart on
	// 6.0: not the DDL's doing).
	Register(ddlSpec("ddl-under-load", "a node adds a column with a default to the ledger, indexes it, creates a table and changes the default, through the flavor's DDL replication, under load; it crash-restarts at once while its DDL travels; every node writes the new table once the DDL reached it; later a lagged survivor and the kill of another node with recovery; the catalogs and rows converge",
		ddlUnderLoad, SpockDoubleApplyAfterCrash))
	// Measured: pass on pglogical (seeds 7, 8) and on Spock 6.0 (seed 7:
	// each peer logged "table 'ddl_n3_8637' was added to 'default'
	// replication set", 0 exception_log rows, no double apply).
	Register(ddlSpec("ddl-partition-kill", "a node runs the DDL script under load and is cut off from the others at once while its DDL travels; after the heal, a survivor lags behind another node, which is killed with recovery; the catalogs and rows converge",
		ddlPartitionKill))
}

// ddlSpec is a nightly DDL-under-load scenario: 3 nodes, 2 ledger clients
// a node for 30 s, recovery auto, every checker with recovered and ddl.
func ddlSpec(name, description string, faults func(Rand, []string, time.Duration) []Step, findings ...Finding) *Spec {
	return &Spec{
		Name: name, Description: description,
		Labels: []string{LabelNightly}, Nodes: 3, Timeout: 10 * time.Minute,
		Workload: "ledger", ClientsPerNode: 2, Load: 30 * time.Second, Recovery: "auto",
		Checkers: append([]string{CheckRecovered, CheckDDL}, allCheckers...), Expect: verify.Pass,
		KnownFindings: findings, Faults: faults,
	}
}

// ddlPartitionKill: DDL on x, x partitioned right after for 4 s; then a
// survivor lags behind y (not x) and y is killed.
func ddlPartitionKill(r Rand, nodes []string, load time.Duration) []Step {
	x := pick(r, nodes)
	y := pick(r, nodes, x)
	ddlAt := jitter(r, load/5, load/10)
	return []Step{
		{At: ddlAt, Kind: StepDDL, Node: x},
		{At: ddlAt + 200*time.Millisecond, Kind: StepPartition, Node: x, Hold: 4 * time.Second},
		{At: jitter(r, load*2/3, load/20), Kind: StepLag, Node: pick(r, nodes, y), Peer: y},
		{At: jitter(r, load*5/6, load/20), Kind: StepKill, Node: y},
	}
}

// ddlUnderLoad: DDL on x, x crash-restarted right after; then a survivor
// lags behind y (not x) and y is killed (laggedKill's shape).
func ddlUnderLoad(r Rand, nodes []string, load time.Duration) []Step {
	x := pick(r, nodes)
	y := pick(r, nodes, x)
	ddlAt := jitter(r, load/5, load/10)
	return []Step{
		{At: ddlAt, Kind: StepDDL, Node: x},
		{At: ddlAt + 200*time.Millisecond, Kind: StepRestart, Node: x, Hold: 2 * time.Second},
		// A crash-restart and its catch-up take about 12 s under the load
		// (measured): the lag starts after it, the kill later, so that
		// the lagged survivor leaves recovery work.
		{At: jitter(r, load*2/3, load/20), Kind: StepLag, Node: pick(r, nodes, y), Peer: y},
		{At: jitter(r, load*5/6, load/20), Kind: StepKill, Node: y},
	}
}
