package harness_test

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
)

const itemsSchema = `CREATE TABLE items (id text PRIMARY KEY, origin text NOT NULL, note text)`

var _ = Describe("a 3-node pglogical cluster", Label("e2e"), Ordered, func() {
	var cluster *harness.Cluster

	BeforeAll(func(ctx SpecContext) {
		var err error
		cluster, err = harness.Start(ctx, harness.Config{Nodes: 3, Schema: itemsSchema})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) {
			Expect(cluster.Remove(ctx)).To(Succeed())
			Expect(runResources(ctx, cluster.RunID)).To(BeZero(), "containers or networks of the run are left")
		}, NodeTimeout(time.Minute))
	}, NodeTimeout(5*time.Minute))

	It("replicates a row written on each node to every node, in all six directions", func(ctx SpecContext) {
		for _, n := range cluster.Nodes {
			conn, err := n.Connect(ctx)
			Expect(err).NotTo(HaveOccurred())
			_, err = conn.Exec(ctx, "INSERT INTO items (id, origin) VALUES ($1, $1)", n.Name)
			conn.Close(ctx)
			Expect(err).NotTo(HaveOccurred())
		}
		for _, reader := range cluster.Nodes {
			for _, writer := range cluster.Nodes {
				Eventually(func(ctx context.Context) (int, error) {
					return countRows(ctx, reader, "SELECT count(*) FROM items WHERE id = $1", writer.Name)
				}).WithContext(ctx).WithTimeout(30*time.Second).Should(Equal(1),
					fmt.Sprintf("row written on %s never reached %s", writer.Name, reader.Name))
			}
		}
	}, SpecTimeout(time.Minute))

	It("publishes ports on 127.0.0.1 only and labels every container with the run id", func(ctx SpecContext) {
		for _, n := range cluster.Nodes {
			Expect(n.DSN).To(ContainSubstring("@127.0.0.1:"))
			inspect, err := n.Container.Inspect(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(inspect.Config.Labels).To(HaveKeyWithValue(harness.LabelRun, cluster.RunID))
			for _, bindings := range inspect.HostConfig.PortBindings {
				for _, b := range bindings {
					Expect(b.HostIP.String()).To(Equal("127.0.0.1"))
				}
			}
		}
	})

	It("adds tables to the running cluster with ApplySchema", func(ctx SpecContext) {
		Expect(cluster.ApplySchema(ctx, "CREATE TABLE later (k int PRIMARY KEY)", 30*time.Second)).To(Succeed())
		conn, err := cluster.Nodes[2].Connect(ctx)
		Expect(err).NotTo(HaveOccurred())
		_, err = conn.Exec(ctx, "INSERT INTO later VALUES (42)")
		conn.Close(ctx)
		Expect(err).NotTo(HaveOccurred())
		Eventually(func(ctx context.Context) (int, error) {
			return countRows(ctx, cluster.Nodes[0], "SELECT count(*) FROM later WHERE k = 42")
		}).WithContext(ctx).WithTimeout(30 * time.Second).Should(Equal(1))
	}, SpecTimeout(time.Minute))
})

var _ = Describe("a start that fails half-way", Label("e2e"), func() {
	It("leaves no container or network behind", func(ctx SpecContext) {
		runID := harness.NewRunID()
		_, err := harness.Start(ctx, harness.Config{Nodes: 3, RunID: runID, Schema: "CREATE TABLE broken (id int PRIMARY KEY, oops nosuchtype)"})
		Expect(err).To(MatchError(ContainSubstring("apply schema on n")))
		Expect(runResources(ctx, runID)).To(BeZero())
	}, SpecTimeout(3*time.Minute))

	It("refuses a missing image before creating anything", func(ctx SpecContext) {
		runID := harness.NewRunID()
		_, err := harness.Start(ctx, harness.Config{Nodes: 2, RunID: runID, Image: "spockchaos-no-such-image:0"})
		Expect(err).To(MatchError(ContainSubstring("never pulls")))
		Expect(runResources(ctx, runID)).To(BeZero())
	}, SpecTimeout(time.Minute))
})

func countRows(ctx context.Context, n *harness.Node, sql string, args ...any) (int, error) {
	conn, err := pgx.Connect(ctx, n.DSN)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var c int
	err = conn.QueryRow(ctx, sql, args...).Scan(&c)
	return c, err
}

// runResources counts the containers and networks labelled with runID.
func runResources(ctx context.Context, runID string) (int, error) {
	runs, err := harness.ListRuns(ctx)
	if err != nil {
		return 0, err
	}
	for _, r := range runs {
		if r.RunID == runID {
			return r.Containers + 1, nil // a listed run has at least a network
		}
	}
	return 0, nil
}

var _ = Describe("attaching to a running cluster", Label("e2e"), func() {
	It("finds its nodes, DSNs and flavor from the labels alone", func(ctx SpecContext) {
		c, err := harness.Start(ctx, harness.Config{Nodes: 2, Detached: true})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(c.Remove(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))

		a, err := harness.Attach(ctx, c.RunID)
		Expect(err).NotTo(HaveOccurred())
		Expect(a.Flavor.Name()).To(Equal("pglogical"))
		Expect(a.Nodes).To(HaveLen(2))
		for i, n := range a.Nodes {
			Expect(n.Name).To(Equal(c.Nodes[i].Name))
			Expect(n.DSN).To(Equal(c.Nodes[i].DSN))
		}
		Expect(a.ApplySchema(ctx, "CREATE TABLE attached (k int PRIMARY KEY)", 30*time.Second)).To(Succeed())

		_, err = harness.Attach(ctx, "no-such-run")
		Expect(err).To(MatchError(ContainSubstring("no containers labelled")))
	}, SpecTimeout(3*time.Minute))
})
