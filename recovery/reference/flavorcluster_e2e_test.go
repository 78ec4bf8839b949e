package reference

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/recovery/recoverytest"
	"github.com/spockchaos/spockchaos/recovery/slots"
)

// startLedgerCluster starts the 3-node ledger cluster of the flavor-
// parameterized specs (skipped on Spock without an image), removed at the
// end of the container, its recovery slots prepared.
func startLedgerCluster(ctx context.Context, flavorName, image string) *harness.Cluster {
	if flavorName == "spock" && image == "" {
		Skip(recoverytest.SpockSkipReason)
	}
	flavor, err := harness.LookupFlavor(flavorName)
	Expect(err).NotTo(HaveOccurred())
	cluster, err := harness.Start(ctx, harness.Config{Nodes: 3, Flavor: flavor, Image: image, Schema: recoverytest.LedgerSchema})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func(ctx SpecContext) { Expect(cluster.Remove(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
	Expect(slots.PrepareSlots(ctx, cluster)).To(Succeed())
	return cluster
}
