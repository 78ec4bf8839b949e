package harness_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/verify"
)

// The double-apply checker's reading of a node's WAL, on a real server:
// a planted remote transaction committed twice under one origin LSN is
// found, a third with its own LSN is not (the control).
var _ = Describe("reading a node's WAL commits", Label("e2e", "harness"), func() {
	It("finds one remote transaction committed twice, from a helper, nothing run in the node", func(ctx SpecContext) {
		cluster, err := harness.Start(ctx, harness.Config{Nodes: 2})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) {
			Expect(cluster.Remove(ctx)).To(Succeed())
		}, NodeTimeout(time.Minute))

		n1 := cluster.Node("n1")
		conn, err := n1.Connect(ctx)
		Expect(err).NotTo(HaveOccurred())
		defer conn.Close(ctx)
		var origin int
		Expect(conn.QueryRow(ctx, `SELECT pg_replication_origin_create('spockchaos_planted')::int`).Scan(&origin)).To(Succeed())
		for _, sql := range []string{
			`CREATE TABLE planted (k int)`,
			`SELECT pg_replication_origin_session_setup('spockchaos_planted')`,
		} {
			_, err := conn.Exec(ctx, sql)
			Expect(err).NotTo(HaveOccurred(), sql)
		}
		for i, lsn := range []string{"0/DEAD00", "0/DEAD00", "0/DEAD80"} {
			tx, err := conn.Begin(ctx)
			Expect(err).NotTo(HaveOccurred())
			_, err = tx.Exec(ctx, `SELECT pg_replication_origin_xact_setup($1::pg_lsn, now())`, lsn)
			Expect(err).NotTo(HaveOccurred())
			_, err = tx.Exec(ctx, `INSERT INTO planted VALUES ($1)`, i)
			Expect(err).NotTo(HaveOccurred())
			Expect(tx.Commit(ctx)).To(Succeed())
		}

		seg, out, err := harness.ReadWALCommits(ctx, n1)
		Expect(err).NotTo(HaveOccurred())
		Expect(seg).To(MatchRegexp(`^[0-9A-F]{24}$`))
		commits, stop := verify.ParseWALCommits(out)
		Expect(stop).To(ContainSubstring("pg_waldump"), "pg_waldump reads to the end of the WAL on disk")
		dups := verify.FindDuplicateApplies("n1", commits)
		Expect(dups).To(HaveLen(1), "%v", dups)
		Expect(dups[0].Origin).To(Equal(origin))
		Expect(dups[0].OriginLSN).To(Equal("0/DEAD00"))
		Expect(dups[0].Commits).To(HaveLen(2))
		Expect(dups[0].Commits[0].Rels).NotTo(BeEmpty(), "the relations each commit wrote are read")
		var planted80 int
		for _, c := range commits {
			if c.Origin == origin && c.OriginLSN == "0/DEAD80" {
				planted80++
			}
		}
		Expect(planted80).To(Equal(1), "the control commit is read once")
	}, SpecTimeout(3*time.Minute))
})
