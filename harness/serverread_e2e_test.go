package harness_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/verify"
)

// What the harness reads of a real server, on one 2-node cluster: the
// catalog views the capture queries read differ between PostgreSQL
// versions, and pg_waldump's output is the double-apply checker's input.
var _ = Describe("reading a real node's state", Label("e2e", "harness"), Ordered, func() {
	var n1 *harness.Node
	BeforeAll(func(ctx SpecContext) {
		cluster, err := harness.Start(ctx, harness.Config{Nodes: 2})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) {
			Expect(cluster.Remove(ctx)).To(Succeed())
		}, NodeTimeout(time.Minute))
		n1 = cluster.Node("n1")
	}, NodeTimeout(5*time.Minute))

	It("lists the node's slots and origins with progress, and stores them under nodes/<name>/", func(ctx SpecContext) {

		st, err := harness.CaptureNodeState(ctx, n1.DSN)
		Expect(err).NotTo(HaveOccurred())
		Expect(st.ServerVersion).To(HavePrefix("17."))
		Expect(st.Slots).NotTo(BeEmpty(), "n2 subscribes to n1: n1 has its slot")
		Expect(st.Slots[0]).To(HaveKey("slot_name"))
		Expect(st.Slots[0]).To(HaveKey("confirmed_flush_lsn"))
		Expect(st.Origins).NotTo(BeEmpty(), "n1 subscribes to n2: n1 has its origin")
		Expect(st.Origins[0]).To(And(HaveKey("name"), HaveKey("remote_lsn")))

		dir := GinkgoT().TempDir()
		Expect(record.WriteNodeState(dir, "n1", record.BeforeFault, st)).To(Succeed())
		b, err := os.ReadFile(filepath.Join(dir, "nodes", "n1", "origins-before-fault.json"))
		Expect(err).NotTo(HaveOccurred())
		var stored struct {
			Origins []map[string]any `json:"origins"`
		}
		Expect(json.Unmarshal(b, &stored)).To(Succeed())
		Expect(stored.Origins).To(HaveLen(len(st.Origins)))

		_, err = harness.CaptureNodeState(ctx, "postgres://postgres:wrong@127.0.0.1:1/postgres?connect_timeout=2")
		Expect(err).To(MatchError(ContainSubstring("capture node state")))
	}, SpecTimeout(2*time.Minute))

	// A planted remote transaction committed twice under one origin LSN
	// is found, a third with its own LSN is not (the control).
	It("finds one remote transaction committed twice in the WAL, from a helper, nothing run in the node", func(ctx SpecContext) {

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

		seg, out, err := harness.ReadWALCommits(ctx, n1, conn)
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
