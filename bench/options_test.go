package bench

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
)

// Every bench refuses options it cannot measure with before it starts
// anything (no container runtime is needed for these).
var _ = Describe("options", func() {
	ctx := context.Background()
	pglogical := func() harness.Config {
		f, err := harness.LookupFlavor("pglogical")
		Expect(err).NotTo(HaveOccurred())
		return harness.Config{Nodes: 3, Flavor: f}
	}

	It("Up needs a run", func() {
		_, err := Up(ctx, UpOptions{Config: pglogical()})
		Expect(err).To(MatchError(ContainSubstring("Runs must be at least 1")))
	})

	It("Workload needs clients, rounds and a second", func() {
		opts := WorkloadOptions{Config: pglogical(), Clients: 1, Rounds: 1, Duration: 500 * time.Millisecond}
		_, err := Workload(ctx, opts)
		Expect(err).To(MatchError(ContainSubstring("Duration >= 1s")))
	})

	It("Verify needs ten rows and two servers when given any", func() {
		_, err := Verify(ctx, VerifyOptions{Rows: 9, Runs: 1})
		Expect(err).To(MatchError(ContainSubstring("Rows must be at least 10")))
		_, err = Verify(ctx, VerifyOptions{Rows: 10, Runs: 1, DSNs: []string{"postgres://x"}})
		Expect(err).To(MatchError(ContainSubstring("at least two DSNs")))
	})

	It("Recovery needs pglogical and three nodes", func() {
		spock, err := harness.LookupFlavor("spock")
		Expect(err).NotTo(HaveOccurred())
		_, err = Recovery(ctx, RecoveryOptions{Config: harness.Config{Nodes: 3, Flavor: spock}, Txns: 1, Rows: 1})
		Expect(err).To(MatchError(ContainSubstring("must be pglogical")))
		cfg := pglogical()
		cfg.Nodes = 2
		_, err = Recovery(ctx, RecoveryOptions{Config: cfg, Txns: 1, Rows: 1})
		Expect(err).To(MatchError(ContainSubstring("at least 3 nodes")))
	})
})

var _ = Describe("RTO options", func() {
	ctx := context.Background()
	It("need sizes, rows, pglogical and three nodes", func() {
		f, err := harness.LookupFlavor("pglogical")
		Expect(err).NotTo(HaveOccurred())
		_, err = RTO(ctx, RTOOptions{Config: harness.Config{Nodes: 3, Flavor: f}, Rows: 1})
		Expect(err).To(MatchError(ContainSubstring("at least one size")))
		_, err = RTO(ctx, RTOOptions{Config: harness.Config{Nodes: 3, Flavor: f}, Sizes: []int{10, 0}, Rows: 1})
		Expect(err).To(MatchError(ContainSubstring("size 0")))
		_, err = RTO(ctx, RTOOptions{Config: harness.Config{Nodes: 3, Flavor: f}, Sizes: []int{10}, Rows: 1, Repeat: -1})
		Expect(err).To(MatchError(ContainSubstring("Repeat >= 0")))
		_, err = RTO(ctx, RTOOptions{Config: harness.Config{Nodes: 2, Flavor: f}, Sizes: []int{10}, Rows: 1})
		Expect(err).To(MatchError(ContainSubstring("at least 3 nodes")))
		spock, err := harness.LookupFlavor("spock")
		Expect(err).NotTo(HaveOccurred())
		_, err = RTO(ctx, RTOOptions{Config: harness.Config{Nodes: 3, Flavor: spock}, Sizes: []int{10}, Rows: 1})
		Expect(err).To(MatchError(ContainSubstring("must be pglogical")))
	})
})
