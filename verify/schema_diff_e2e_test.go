package verify_test

import (
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/recovery/recoverytest"
	"github.com/spockchaos/spockchaos/verify"
)

// schemaDDL is what the DDL-under-load step issues, on a small table.
var schemaDDL = []string{
	"ALTER TABLE public.sd ADD COLUMN note text DEFAULT 'ddl'",
	"CREATE INDEX sd_note_idx ON public.sd (note)",
	"CREATE TABLE public.sd_new (id int PRIMARY KEY, node text NOT NULL)",
	"ALTER TABLE public.sd ALTER COLUMN note SET DEFAULT 'after'",
}

// schemaDiffSpecs: the checker passes on a fresh cluster (the no-op
// control) and after DDL replicated by the flavor's mechanism, and fails,
// naming the node and the column, on a column added on one node outside
// replication (the planted defect).
func schemaDiffSpecs(cfg func() (harness.Config, bool)) {
	var (
		cluster *harness.Cluster
		targets []verify.Target
	)
	BeforeAll(func(ctx SpecContext) {
		c, ok := cfg()
		if !ok {
			Skip(recoverytest.SpockSkipReason)
		}
		c.Nodes, c.Schema = 3, "CREATE TABLE public.sd (id int PRIMARY KEY, v text NOT NULL)"
		var err error
		cluster, err = harness.Start(ctx, c)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(cluster.Remove(ctx)).To(Succeed()) }, NodeTimeout(2*time.Minute))
		for _, n := range cluster.Nodes {
			targets = append(targets, verify.Target{Name: n.Name, DSN: n.DSN})
		}
	}, NodeTimeout(5*time.Minute))

	It("passes on identical schemas (no-op control)", func(ctx SpecContext) {
		r := verify.CheckSchemas(ctx, targets)
		Expect(r.Verdict).To(Equal(verify.Pass), r.Summary)
	}, SpecTimeout(time.Minute))

	It("passes once DDL issued on n1 has reached every node, and the new table replicates from n2", func(ctx SpecContext) {
		Expect(cluster.ReplicateDDL(ctx, "n1", schemaDDL)).To(Succeed())
		Eventually(func(g Gomega) {
			r := verify.CheckSchemas(ctx, targets)
			g.Expect(r.Verdict).To(Equal(verify.Pass), r.Summary)
		}).WithContext(ctx).WithTimeout(time.Minute).WithPolling(time.Second).Should(Succeed(), "the DDL reaching n2 and n3")
		n2, err := cluster.Node("n2").Connect(ctx)
		Expect(err).NotTo(HaveOccurred())
		defer n2.Close(ctx)
		_, err = n2.Exec(ctx, "INSERT INTO public.sd_new VALUES (1, 'n2')")
		Expect(err).NotTo(HaveOccurred())
		n1, err := cluster.Node("n1").Connect(ctx)
		Expect(err).NotTo(HaveOccurred())
		defer n1.Close(ctx)
		Eventually(func(g Gomega) {
			var n int
			g.Expect(n1.QueryRow(ctx, "SELECT count(*) FROM public.sd_new").Scan(&n)).To(Succeed())
			g.Expect(n).To(Equal(1))
		}).WithContext(ctx).WithTimeout(time.Minute).WithPolling(time.Second).Should(Succeed(), "n2's row of the new table on n1")
	}, SpecTimeout(3*time.Minute))

	It("fails on a column added on n2 only, naming n2 and the column (planted defect)", func(ctx SpecContext) {
		n2, err := cluster.Node("n2").Connect(ctx)
		Expect(err).NotTo(HaveOccurred())
		defer n2.Close(ctx)
		_, err = n2.Exec(ctx, "ALTER TABLE public.sd ADD COLUMN planted int")
		Expect(err).NotTo(HaveOccurred())
		r := verify.CheckSchemas(ctx, targets)
		Expect(r.Verdict).To(Equal(verify.Fail), r.Summary)
		Expect(r.Summary).To(ContainSubstring(`column public.sd.planted: (absent) on n1,n3; "integer" on n2`))
	}, SpecTimeout(time.Minute))
}

var _ = Describe("schema-diff on pglogical", Label("e2e", "verify", "ddl"), Ordered, func() {
	schemaDiffSpecs(func() (harness.Config, bool) { return harness.Config{}, true })
})

var _ = Describe("schema-diff on a Spock image with AutoDDL", Label("e2e", "verify", "ddl", "spock"), Ordered, func() {
	schemaDiffSpecs(func() (harness.Config, bool) {
		image := os.Getenv(recoverytest.SpockImageEnv)
		flavor, err := harness.LookupFlavor("spock")
		Expect(err).NotTo(HaveOccurred())
		return harness.Config{Flavor: flavor, Image: image}, image != ""
	})
})
