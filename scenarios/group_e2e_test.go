package scenarios_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/harness/fault"
	"github.com/spockchaos/spockchaos/scenarios"
)

// A group whose second fault's effect check fails while the first is in
// force heals both. The pair planted here is one the overlap rules refuse
// (a stop-apply's marker cannot reach a partitioned node), so its check
// really fails against a real fault in force.
var _ = Describe("an overlapping group on a cluster", Label("e2e", "scenario"), func() {
	It("heals the partition and thaws the frozen apply worker when the stop-apply's effect check fails under the partition", func(ctx SpecContext) {
		cluster, err := harness.Start(ctx, harness.Config{Nodes: 3, Schema: `CREATE TABLE items (id text PRIMARY KEY)`})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(cluster.Remove(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
		partition := scenarios.Step{Kind: scenarios.StepPartition, Node: "n3", Hold: time.Second}
		stop := scenarios.Step{Kind: scenarios.StepStopApply, Node: "n1", Peer: "n2", Hold: time.Second, Overlap: true}
		Expect(scenarios.OverlapRefusal(partition, stop, []string{"n1", "n2", "n3"})).NotTo(BeEmpty(), "the rules refuse this pair")

		faults, err := scenarios.RunGroupOn(ctx, cluster, []scenarios.Step{partition, stop})
		Expect(err).To(MatchError(fault.ErrNotEffective))
		Expect(err).To(MatchError(ContainSubstring("stop-apply n1 from n2")))
		Expect(faults).To(HaveLen(2))
		for _, f := range faults {
			Expect(f.End).NotTo(BeZero(), "%s %s ended", f.Kind, f.Node)
		}
		// Nothing left in force: every node replicates to every other
		// (the partition's routes are gone, n1's worker for n2 runs).
		Expect(cluster.Barrier(ctx, cluster.Nodes, time.Minute)).To(Succeed())
	}, SpecTimeout(5*time.Minute))
})
