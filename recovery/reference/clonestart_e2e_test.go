package reference

import (
	"os"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/recoverytest"
	"github.com/spockchaos/spockchaos/recovery/slots"
)

// A recovery whose source's slot lies far behind a durable sample that
// every target has passed streams it through the walsender from that
// sample (streamSkipMin set to 0: the stretch skipped here is short), and
// still replays exactly what the target lacks.
var _ = Describe("a recovery stream started at the keeper's sample", Label("e2e", "recovery"), func() {
	It("starts at the sample, replays exactly the transactions the lagging survivor lacks, and the survivors converge", func(ctx SpecContext) {
		streamStartSpec(ctx, "pglogical", "")
	}, SpecTimeout(4*time.Minute))
})

var _ = Describe("a recovery stream started at the keeper's sample on Spock", Label("e2e", "recovery", "spock"), func() {
	It("starts at the sample, replays exactly the transactions the lagging survivor lacks, and the survivors converge", func(ctx SpecContext) {
		streamStartSpec(ctx, "spock", os.Getenv(recoverytest.SpockImageEnv))
	}, SpecTimeout(4*time.Minute))
})

func streamStartSpec(ctx SpecContext, flavorName, image string) {
	const early, lost = 200, 30
	skip := streamSkipMin
	streamSkipMin = 0
	DeferCleanup(func() { streamSkipMin = skip })
	cluster := startLedgerCluster(ctx, flavorName, image)
	n1, n2, n3 := cluster.Node("n1"), cluster.Node("n2"), cluster.Node("n3")
	Expect(recoverytest.WriteLedger(ctx, n1, "early", early, 1)).To(Succeed())
	for _, n := range []string{"n2", "n3"} {
		Expect(recoverytest.WaitCount(ctx, cluster.Node(n), "SELECT count(*) FROM ledger WHERE txn_id LIKE 'early-%'", early, time.Minute)).To(Succeed())
	}

	By("taking one durable sample on n2 of its origin for n1, as a keeper round does, without moving any slot")
	conn, err := n2.Connect(ctx)
	Expect(err).NotTo(HaveOccurred())
	members := []slots.KeeperNode{{Name: "n1", DSN: n1.DSN}, {Name: "n2", DSN: n2.DSN}, {Name: "n3", DSN: n3.DSN}}
	samples, err := slots.ReadSamples(ctx, flavorName, members[1], conn, members)
	conn.Close(ctx)
	Expect(err).NotTo(HaveOccurred())
	sample := samples["n1"]
	slot, err := confirmedFlush(ctx, n2, recovery.RecoverySlotName(recovery.DefaultDB, "n2", "n1"))
	Expect(err).NotTo(HaveOccurred())
	Expect(sample.Local).To(BeNumerically(">", slot), "n2's slot for n1 must lie before the sample for the stream to start there")

	By("lagging n3 behind n1, giving n1 transactions only n2 receives, killing n1")
	Expect(recoverytest.Lag(ctx, cluster, "n3", "n1")).To(Succeed())
	Expect(recoverytest.WriteLedger(ctx, n1, "lost", lost, 2)).To(Succeed())
	Expect(recoverytest.WaitCount(ctx, n2, "SELECT count(*) FROM ledger WHERE txn_id LIKE 'lost-%'", 2*lost, time.Minute)).To(Succeed())
	Expect(recoverytest.Kill(ctx, n1)).To(Succeed())
	missing, err := recoverytest.MissingTxns(ctx, n2, n3)
	Expect(err).NotTo(HaveOccurred())
	Expect(missing).To(HaveLen(lost))

	in := recovery.InputFromCluster(cluster, "n1")
	in.StepTimeout = 30 * time.Second
	for i := range in.Survivors {
		in.Survivors[i].Samples = []recovery.OriginSample{sample}
	}
	res, err := Reference{}.Recover(ctx, in)
	Expect(err).NotTo(HaveOccurred(), "result: %+v", res)
	Expect(res.TransactionsRecovered).To(BeEquivalentTo(lost))
	var atSample []string
	for _, a := range res.Actions {
		if strings.Contains(a.What, "from the keeper's sample") {
			atSample = append(atSample, a.Node)
		}
	}
	Expect(atSample).To(Equal([]string{"n2"}), "the stream did not start at the sample")
	expectStream(res, "n2")
	Expect(res.Streams[0].Start).To(Equal(sample.Local.String()))
	Expect(res.PerPair).To(HaveLen(1))
	Expect(res.PerPair[0].Decoded).To(BeNumerically("<", early), "the stream decoded the early transactions the sample lets it skip")
	Expect(recoverytest.MissingTxns(ctx, n2, n3)).To(BeEmpty())
	rows2, err := recoverytest.LedgerRows(ctx, n2)
	Expect(err).NotTo(HaveOccurred())
	Expect(recoverytest.LedgerRows(ctx, n3)).To(Equal(rows2))
}
