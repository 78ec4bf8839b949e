package reference

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/harness/fault"
	"github.com/spockchaos/spockchaos/recovery"
	"github.com/spockchaos/spockchaos/recovery/internal/pgnode"
	"github.com/spockchaos/spockchaos/recovery/recoverytest"
	"github.com/spockchaos/spockchaos/recovery/slots"
)

// The keeper specs run on pglogical always and on Spock when an image is
// named.
var _ = Describe("recovery slots advanced continuously by the keeper", Label("e2e", "recovery"), Ordered, func() {
	keeperSpecs("pglogical", "")
})

var _ = Describe("recovery slots advanced continuously by the keeper on Spock", Label("e2e", "recovery", "spock"), Ordered, func() {
	keeperSpecs("spock", os.Getenv(recoverytest.SpockImageEnv))
})

func keeperSpecs(flavorName, image string) {
	var (
		cluster *harness.Cluster
		keeper  *slots.Keeper
		dsnMu   sync.Mutex
		// stopKeeper ends the keeper's rounds and waits for them.
		stopKeeper func()
	)
	slotPos := func(ctx context.Context, node, peer string) recovery.LSN {
		dsnMu.Lock()
		n := *cluster.Node(node)
		dsnMu.Unlock()
		l, err := confirmedFlush(ctx, &n, recovery.RecoverySlotName(recovery.DefaultDB, node, peer))
		Expect(err).NotTo(HaveOccurred())
		return l
	}
	// eventually waits until slot node->peer is past from.
	movesPast := func(ctx context.Context, node, peer string, from recovery.LSN, why string) {
		Eventually(func() recovery.LSN { return slotPos(ctx, node, peer) }).WithContext(ctx).WithTimeout(20*time.Second).WithPolling(200*time.Millisecond).
			Should(BeNumerically(">", from), "slot %s->%s did not move %s", node, peer, why)
	}

	BeforeAll(func(ctx SpecContext) {
		cluster = startLedgerCluster(ctx, flavorName, image)
		keeper = &slots.Keeper{Flavor: flavorName, Every: 200 * time.Millisecond, Members: func() []slots.KeeperNode {
			dsnMu.Lock()
			defer dsnMu.Unlock()
			var out []slots.KeeperNode
			for _, n := range cluster.Nodes {
				out = append(out, slots.KeeperNode{Name: n.Name, DSN: n.DSN})
			}
			return out
		}}
		kctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		var wg sync.WaitGroup
		wg.Go(func() { keeper.Run(kctx) })
		stopKeeper = sync.OnceFunc(func() { cancel(); wg.Wait() })
		DeferCleanup(func() { stopKeeper() })
	}, NodeTimeout(3*time.Minute))

	It("move under load, hold the slots a partitioned survivor needs, move again after the heal, through a lag and a restart of the source, and recovery then replays exactly what the lagging survivor lacks", func(ctx SpecContext) {
		n1, n2, n3 := cluster.Node("n1"), cluster.Node("n2"), cluster.Node("n3")
		load1 := startWriter(ctx, n1, "load-n1")
		load2 := startWriter(ctx, n2, "load-n2")

		By("moving every slot under load")
		start := map[string]recovery.LSN{}
		for _, s := range []string{"n1", "n2", "n3"} {
			for _, x := range []string{"n1", "n2", "n3"} {
				if s != x {
					start[s+x] = slotPos(ctx, s, x)
				}
			}
		}
		movesPast(ctx, "n2", "n1", start["n2n1"], "under load")
		movesPast(ctx, "n1", "n2", start["n1n2"], "under load")

		By("holding, while n3 is partitioned, the slots of n1 and n2 for each other (n3 needs them), and moving them again after the heal")
		part := fault.New(fault.Partition(cluster, "n3"), nil)
		Expect(part.InjectAndConfirm(ctx)).To(Succeed())
		n3pos := originPos(ctx, flavorName, n3, "n1")
		time.Sleep(time.Second) // the keeper sees n3 stand still
		roundsBefore := keeper.Report().Rounds
		held21 := slotPos(ctx, "n2", "n1")
		time.Sleep(2 * time.Second)
		Expect(keeper.Report().Rounds).To(BeNumerically(">", roundsBefore+3), "the keeper's rounds go on during the partition")
		Expect(originPos(ctx, flavorName, n3, "n1")).To(Equal(n3pos), "n3 applied n1's writes while partitioned")
		Expect(slotPos(ctx, "n2", "n1")).To(Equal(held21), "n2's slot for n1 moved while n3, which needs it, stood still")
		Expect(part.HealAndConfirm(ctx)).To(Succeed())
		movesPast(ctx, "n2", "n1", held21, "after the heal")

		By("moving n2's slot for n1 again after a restart of n2 (the source of the recovery to come)")
		Expect(load2.stop()).To(Succeed())
		beforeRestart := slotPos(ctx, "n2", "n1")
		Expect(recoverytest.Kill(ctx, n2)).To(Succeed())
		dsnMu.Lock()
		err := fault.Restart(ctx, cluster, "n2", 2*time.Minute)
		n2now := *cluster.Node("n2")
		dsnMu.Unlock()
		Expect(err).NotTo(HaveOccurred())
		load2 = startWriter(ctx, &n2now, "load-n2-again")
		movesPast(ctx, "n2", "n1", beforeRestart, "after n2's restart")

		By("moving the slots a lag does not hold while n3 lags behind n1")
		Expect(recoverytest.Lag(ctx, cluster, "n3", "n1")).To(Succeed())
		lagged := slotPos(ctx, "n1", "n2")
		movesPast(ctx, "n1", "n2", lagged, "during the lag (n3 still receives n2)")
		time.Sleep(time.Second)

		By("killing n1 once n2 has all of it, and recovering")
		Expect(load1.stop()).To(Succeed())
		Expect(load2.stop()).To(Succeed())
		var onN1, onN2 int64
		Expect(countOn(ctx, n1, "SELECT count(*) FROM ledger WHERE origin = 'n1'", &onN1)).To(Succeed())
		Expect(countOn(ctx, &n2now, "SELECT count(*) FROM ledger WHERE origin = 'n2'", &onN2)).To(Succeed())
		Expect(recoverytest.WaitCount(ctx, &n2now, "SELECT count(*) FROM ledger WHERE origin = 'n1'", onN1, time.Minute)).To(Succeed())
		Expect(recoverytest.WaitCount(ctx, n3, "SELECT count(*) FROM ledger WHERE origin = 'n2'", onN2, time.Minute)).To(Succeed())
		time.Sleep(time.Second) // a few more rounds
		Expect(recoverytest.Kill(ctx, n1)).To(Succeed())
		stopKeeper()
		missing, err := recoverytest.MissingTxns(ctx, &n2now, n3)
		Expect(err).NotTo(HaveOccurred())
		Expect(missing).NotTo(BeEmpty(), "the lag left n3 nothing to recover")
		before21 := slotPos(ctx, "n2", "n1")
		Expect(before21).To(BeNumerically(">", start["n2n1"]), "n2's slot for n1 never moved")

		dsnMu.Lock()
		in := recovery.InputFromCluster(cluster, "n1")
		dsnMu.Unlock()
		in.StepTimeout = 30 * time.Second
		// As in a scenario: the keeper's samples may place the clone.
		for i, sv := range in.Survivors {
			in.Survivors[i].Samples = keeper.Samples(sv.Name, "n1")
		}
		res, err := Reference{}.Recover(ctx, in)
		Expect(err).NotTo(HaveOccurred(), "result: %+v", res)
		Expect(res.TransactionsRecovered).To(BeEquivalentTo(len(missing)))
		Expect(recoverytest.MissingTxns(ctx, &n2now, n3)).To(BeEmpty())
		rows2, err := recoverytest.LedgerRows(ctx, &n2now)
		Expect(err).NotTo(HaveOccurred())
		Expect(recoverytest.LedgerRows(ctx, n3)).To(Equal(rows2))
		AddReportEntry("keeper", keeper.Report())
		AddReportEntry(fmt.Sprintf("recovery (slot n2->n1 at %s, moved from %s)", before21, start["n2n1"]), res.PerPair)
	}, SpecTimeout(5*time.Minute))
}

// writer commits single-row ledger transactions on a node in a loop.
type writer struct {
	cancel context.CancelFunc
	done   chan error
}

func (w *writer) stop() error { w.cancel(); return <-w.done }

func startWriter(ctx context.Context, n *harness.Node, prefix string) *writer {
	wctx, cancel := context.WithCancel(ctx)
	w := &writer{cancel: cancel, done: make(chan error, 1)}
	go func() {
		conn, err := n.Connect(wctx)
		if err != nil {
			w.done <- err
			return
		}
		defer conn.Close(context.WithoutCancel(wctx))
		for i := 0; ; i++ {
			_, err := conn.Exec(wctx, "INSERT INTO ledger (txn_id, seq, origin, payload) VALUES ($1, 1, $2, 'p')", fmt.Sprintf("%s-%d", prefix, i), n.Name)
			if wctx.Err() != nil {
				w.done <- nil
				return
			}
			if err != nil {
				w.done <- fmt.Errorf("writer %s on %s: %w", prefix, n.Name, err)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return w
}

func countOn(ctx context.Context, n *harness.Node, q string, out *int64) error {
	conn, err := n.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return conn.QueryRow(ctx, q).Scan(out)
}

// originPos is node's progress for its subscription from provider.
func originPos(ctx context.Context, flavor string, n *harness.Node, provider string) recovery.LSN {
	conn, err := n.Connect(ctx)
	Expect(err).NotTo(HaveOccurred())
	defer conn.Close(context.WithoutCancel(ctx))
	cat, err := pgnode.CatalogFor(flavor)
	Expect(err).NotTo(HaveOccurred())
	origin, err := cat.OriginName(ctx, conn, pgnode.SubscriptionName(n.Name, provider))
	Expect(err).NotTo(HaveOccurred())
	l, err := pgnode.OriginProgress(ctx, conn, origin)
	Expect(err).NotTo(HaveOccurred())
	return l
}
