package verify_test

import (
	"encoding/json"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/verify"
)

var _ = Describe("double-apply", func() {
	// Lines as pg_waldump 17 prints them (-r Transaction), with the end of
	// the WAL on disk as its last line.
	const waldump = `rmgr: Transaction len (rec/tot):     46/    46, tx:        749, lsn: 0/01607D28, prev 0/01607CC8, desc: COMMIT 2026-12-06 08:29:51.433284 UTC
rmgr: Transaction len (rec/tot):     65/    65, tx:        750, lsn: 0/01607EA0, prev 0/01607E50, desc: COMMIT 2026-12-06 08:29:51.625768 UTC; origin: node 49708, lsn 0/1607E58, at 2026-12-06 08:29:51.622018 UTC
rmgr: Transaction len (rec/tot):     65/    65, tx:        752, lsn: 0/01608088, prev 0/01608038, desc: COMMIT 2026-12-06 08:29:51.647981 UTC; origin: node 26863, lsn 0/1607FC0, at 2026-12-06 08:29:51.628864 UTC
rmgr: Transaction len (rec/tot):     34/    34, tx:        753, lsn: 0/01608100, prev 0/01608088, desc: ABORT 2026-12-06 08:29:51.700000 UTC
pg_waldump: error: error in WAL record at 0/1608088: invalid record length at 0/16080D0: expected at least 24, got 0`
	// The same remote commit (origin 49708, lsn 0/1607E58) applied again
	// after a crash-restart, as a resend behind the origin would.
	const replayed = waldump + "\n" + `rmgr: Transaction len (rec/tot):     65/    65, tx:        901, lsn: 0/01700000, prev 0/016FFF00, desc: COMMIT 2026-12-06 08:31:00.000000 UTC; origin: node 49708, lsn 0/1607E58, at 2026-12-06 08:29:51.622018 UTC`
	names := map[int]string{49708: "n1", 26863: "n2"}

	It("parses the commits that carry an origin, and where pg_waldump stopped", func() {
		commits, stop := verify.ParseWALCommits(waldump)
		Expect(commits).To(Equal([]verify.WALCommit{
			{XID: 750, LSN: "0/01607EA0", Origin: 49708, OriginLSN: "0/1607E58", At: "2026-12-06 08:29:51.625768 UTC"},
			{XID: 752, LSN: "0/01608088", Origin: 26863, OriginLSN: "0/1607FC0", At: "2026-12-06 08:29:51.647981 UTC"},
		}))
		Expect(stop).To(HavePrefix("pg_waldump: error: error in WAL record"))
	})

	It("parses the sidecar's cut lines (harness.ReadWALCommits) the same way", func() {
		cut := "tx:        750, lsn: 0/01607EA0, desc: COMMIT 2026-12-06 08:29:51.625768 UTC ; origin: node 49708, lsn 0/1607E58,"
		commits, _ := verify.ParseWALCommits(cut)
		Expect(commits).To(Equal([]verify.WALCommit{{XID: 750, LSN: "0/01607EA0", Origin: 49708, OriginLSN: "0/1607E58", At: "2026-12-06 08:29:51.625768 UTC"}}))
	})

	judge := func(nodes ...verify.WALNodeCapture) verify.CheckResult {
		return verify.JudgeDoubleApply(&verify.WALCapture{Nodes: nodes})
	}
	node := func(name, out string) verify.WALNodeCapture {
		commits, stop := verify.ParseWALCommits(out)
		return verify.CaptureWALNode(name, "000000010000000000000001", stop, commits, names, nil, nil)
	}

	DescribeTable("judges the survivors' WAL",
		func(c *verify.WALCapture, want verify.Verdict, says []string) {
			res := verify.JudgeDoubleApply(c)
			Expect(res.Verdict).To(Equal(want), res.Summary)
			for _, s := range says {
				Expect(res.Summary).To(ContainSubstring(s))
			}
		},
		Entry("control: each remote commit once on every node",
			&verify.WALCapture{Nodes: []verify.WALNodeCapture{node("n2", waldump), node("n3", waldump)}},
			verify.Pass, []string{"every remote transaction committed once", "n2 2, n3 2"}),
		Entry("planted: one remote commit applied twice on n2",
			&verify.WALCapture{Nodes: []verify.WALNodeCapture{node("n2", replayed), node("n3", waldump)}},
			verify.Fail, []string{"n2: 1 of its 3 commits with an origin", "origin 49708 (n1) lsn 0/1607E58 committed 2 times", "xid 750 at 0/01607EA0, 2026-12-06 08:29:51.625768 UTC, xid 901 at 0/01700000, 2026-12-06 08:31:00.000000 UTC"}),
		Entry("a node whose WAL could not be read is unknown, not a pass",
			&verify.WALCapture{Nodes: []verify.WALNodeCapture{node("n2", waldump), {Node: "n3", Error: "helper container: timeout"}}},
			verify.Unknown, []string{"n3: helper container: timeout"}),
		Entry("a duplicate outweighs an unreadable node",
			&verify.WALCapture{Nodes: []verify.WALNodeCapture{node("n2", replayed), {Node: "n3", Error: "timeout"}}},
			verify.Fail, []string{"n2: 1 of its 3"}),
		Entry("no pg_waldump for the server's major: skipped",
			&verify.WALCapture{NotApplicable: "no pg_waldump 15 in the tools image"}, verify.Skipped, []string{"not applicable"}),
		Entry("nothing read: unknown", &verify.WALCapture{}, verify.Unknown, []string{"no node's WAL was read"}),
		Entry("no capture: unknown", nil, verify.Unknown, nil),
	)

	It("reads the relations a cut line's transaction wrote, and counts only commits that wrote data", func() {
		// Spock 5.0.x: the apply's commit, then its progress update (only
		// spock.progress, relfilenode 16500) with the same origin LSN.
		cut := "tx: 1236, lsn: 0/016CAB98, desc: COMMIT 2026-12-06 09:19:42.161078 UTC ; origin: node 9057, lsn 0/16CB748, rels: 16663 16669\n" +
			"tx: 1239, lsn: 0/016CB390, desc: COMMIT 2026-12-06 09:19:42.165542 UTC ; origin: node 9057, lsn 0/16CB748, rels: 16500\n" +
			"tx: 1240, lsn: 0/016CB400, desc: COMMIT 2026-12-06 09:19:42.166000 UTC ; origin: node 9057, lsn 0/16CB800, rels:"
		commits, _ := verify.ParseWALCommits(cut)
		Expect(commits[0].Rels).To(Equal([]uint32{16663, 16669}))
		Expect(commits[2].Rels).To(BeEmpty())
		Expect(commits[2].Rels).NotTo(BeNil(), "read, and nothing written")
		own := map[uint32]bool{16500: true}
		n := verify.CaptureWALNode("n1", "seg", "", commits, nil, own, nil)
		Expect(n.Duplicated).To(Equal(0), "a bookkeeping commit is not a second apply")
		Expect(n.Commits).To(Equal(1))
		Expect(n.Bookkeeping).To(Equal(2))
		// Control: the same pair where the second wrote the table again.
		again := strings.Replace(cut, "rels: 16500", "rels: 16663 16669", 1)
		commits, _ = verify.ParseWALCommits(again)
		Expect(verify.CaptureWALNode("n1", "seg", "", commits, nil, own, nil).Duplicated).To(Equal(1))
	})

	It("leaves out the harness's pinned replay on Spock, and only that", func() {
		// The reference recovery replayed three of n2's transactions on n1
		// under origin 1 (spk_postgres_n1_sub_n2_n1), all at 0/16A5820.
		var c []verify.WALCommit
		for i := range 3 {
			c = append(c, verify.WALCommit{XID: uint32(100 + i), Origin: 1, OriginLSN: "0/16A5820", Rels: []uint32{16390}})
		}
		names := map[int]string{1: "spk_postgres_n1_sub_n2_n1", 26863: "n2"}
		pin := []verify.PinnedReplay{{Node: "n1", Origin: "spk_postgres_n1_sub_n2_n1", LSN: "0/016A5820"}}
		n := verify.CaptureWALNode("n1", "seg", "", c, names, nil, pin)
		Expect(n.Duplicated).To(Equal(0))
		Expect(n.HarnessReplays).To(Equal(3))
		// Controls: another node, another origin, another LSN stay duplicates.
		for _, p := range []verify.PinnedReplay{{Node: "n3", Origin: pin[0].Origin, LSN: pin[0].LSN}, {Node: "n1", Origin: "n2", LSN: pin[0].LSN}, {Node: "n1", Origin: pin[0].Origin, LSN: "0/16A5828"}} {
			Expect(verify.CaptureWALNode("n1", "seg", "", c, names, nil, []verify.PinnedReplay{p}).Duplicated).To(Equal(1), "%+v", p)
		}
	})

	It("never counts commits without a remote position (0/0) as duplicates", func() {
		c := []verify.WALCommit{{XID: 1, Origin: 3, OriginLSN: "0/0"}, {XID: 2, Origin: 3, OriginLSN: "0/0"}}
		Expect(verify.FindDuplicateApplies("n1", c)).To(BeEmpty())
	})

	It("keeps at most DuplicatesShown duplicates and the whole count", func() {
		var c []verify.WALCommit
		for i := range verify.DuplicatesShown + 5 {
			lsn := "0/" + string(rune('A'+i))
			c = append(c, verify.WALCommit{XID: uint32(2 * i), Origin: 1, OriginLSN: lsn}, verify.WALCommit{XID: uint32(2*i + 1), Origin: 1, OriginLSN: lsn})
		}
		n := verify.CaptureWALNode("n2", "seg", "", c, nil, nil, nil)
		Expect(n.Duplicated).To(Equal(verify.DuplicatesShown + 5))
		Expect(n.Duplicates).To(HaveLen(verify.DuplicatesShown))
		Expect(judge(n).Summary).To(ContainSubstring(fmt.Sprintf("and %d more", verify.DuplicatesShown+2)))
	})

	It("round-trips through JSON for `spockchaos check`", func() {
		c := &verify.WALCapture{Nodes: []verify.WALNodeCapture{node("n2", replayed)}}
		b, err := json.Marshal(c)
		Expect(err).NotTo(HaveOccurred())
		var back verify.WALCapture
		Expect(json.Unmarshal(b, &back)).To(Succeed())
		Expect(verify.JudgeDoubleApply(&back).Summary).To(Equal(verify.JudgeDoubleApply(c).Summary))
	})
})
