package harness_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
)

// writeUntil inserts rows into items on n until ctx ends, counting them;
// a statement is never cut off by ctx, so that every row is counted or
// failed (a fenced node's writes fail).
func writeUntil(ctx context.Context, n *harness.Node, tag string, acked *atomic.Int64) {
	conn, err := n.Connect(ctx)
	if err != nil {
		return
	}
	defer conn.Close(context.Background())
	for i := 0; ctx.Err() == nil; i++ {
		if _, err := conn.Exec(context.Background(), "INSERT INTO items (id, origin) VALUES ($1, $2)", fmt.Sprintf("%s-%s-%d", tag, n.Name, i), n.Name); err == nil {
			acked.Add(1)
		}
	}
}

var _ = Describe("a node joining and leaving a running pglogical cluster", Label("e2e", "nightly"), Ordered, func() {
	var cluster *harness.Cluster

	BeforeAll(func(ctx SpecContext) {
		var err error
		cluster, err = harness.Start(ctx, harness.Config{Nodes: 3, Schema: itemsSchema})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(cluster.Remove(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
	}, NodeTimeout(5*time.Minute))

	It("joins n4 while every node writes, and n4 ends with every row", func(ctx SpecContext) {
		wctx, stop := context.WithCancel(ctx)
		var acked atomic.Int64
		var wg sync.WaitGroup
		for _, n := range cluster.Nodes {
			wg.Go(func() { writeUntil(wctx, n, "join", &acked) })
		}
		time.Sleep(2 * time.Second)
		n4, rep, err := cluster.AddNode(ctx, harness.JoinOptions{Source: "n1", Timeout: 2 * time.Minute})
		Expect(err).NotTo(HaveOccurred())
		Expect(n4.Name).To(Equal("n4"))
		Expect(rep.Handover).To(HaveKey("n2"))
		time.Sleep(2 * time.Second)
		stop()
		wg.Wait()
		Expect(cluster.WaitReady(ctx, cluster.Nodes, 2*time.Minute)).To(Succeed())
		Expect(acked.Load()).To(BeNumerically(">", 100))
		for _, n := range cluster.Nodes {
			Expect(countRows(ctx, n, "SELECT count(*) FROM items WHERE id LIKE $1", "join-%")).To(BeEquivalentTo(acked.Load()), "rows on "+n.Name)
		}
	}, SpecTimeout(5*time.Minute))

	It("removes n2 while the others write, leaving nothing of it behind", func(ctx SpecContext) {
		wctx, stop := context.WithCancel(ctx)
		var acked atomic.Int64
		var wg sync.WaitGroup
		for _, n := range cluster.Nodes {
			wg.Go(func() { writeUntil(wctx, n, "leave", &acked) })
		}
		time.Sleep(time.Second)
		Expect(cluster.RemoveNode(ctx, "n2", time.Minute)).To(Succeed())
		time.Sleep(time.Second)
		stop()
		wg.Wait()
		Expect(cluster.Node("n2")).To(BeNil())
		Expect(cluster.WaitReady(ctx, cluster.Nodes, 2*time.Minute)).To(Succeed())
		left, err := cluster.Leftovers(ctx, "n2", cluster.Nodes)
		Expect(err).NotTo(HaveOccurred())
		Expect(left).To(BeEmpty())
		for _, n := range cluster.Nodes {
			Expect(countRows(ctx, n, "SELECT count(*) FROM items WHERE id LIKE $1", "leave-%")).To(BeEquivalentTo(acked.Load()), "rows on "+n.Name)
		}
	}, SpecTimeout(5*time.Minute))
})
