package scenarios_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
)

// testdata/spock-*: the failing checkers of two Spock 6.0 (main fd2c484a)
// runs of 2026-12-06 and the recovery lines of n2's server log (the rest
// trimmed): crash-restart seed 7 (double-apply only: 30 duplicates on n2)
// and delta-counter-crash-restart seed 8 (double-apply, delta-counter's
// "too many" and convergence's delta_counter.n, all on n2).
var _ = Describe("a remote transaction applied again after the subscriber's crash recovery", func() {
	crash := scenarios.SpockDoubleApplyAfterCrash
	load := loadRunDir
	// capture is the double-apply checker's capture, to plant defects in,
	// with every node's list made whole (the stored s7 capture lists 20 of
	// n2's 30), so that a plant is the only defect.
	capture := func(checks []verify.CheckResult) (*verify.WALCapture, int) {
		for i, c := range checks {
			if c.Name == scenarios.CheckDoubleApply {
				b, err := json.Marshal(c.Details)
				Expect(err).NotTo(HaveOccurred())
				var wc verify.WALCapture
				Expect(json.Unmarshal(b, &wc)).To(Succeed())
				for j := range wc.Nodes {
					wc.Nodes[j].Duplicated = len(wc.Nodes[j].Duplicates)
				}
				return &wc, i
			}
		}
		Fail("no double-apply checker")
		return nil, 0
	}
	n2 := func(wc *verify.WALCapture) *verify.WALNodeCapture {
		for i := range wc.Nodes {
			if wc.Nodes[i].Node == "n2" {
				return &wc.Nodes[i]
			}
		}
		Fail("no n2")
		return nil
	}

	It("explains crash-restart seed 7 only when every one of n2's duplicates is listed", func() {
		// The stored capture lists 20 of 30 (the bound of its day): the
		// other 10 cannot be judged.
		dir, checks := load("spock-crash-restart-s7")
		ok, why := scenarios.Explain([]scenarios.Finding{crash}, dir, checks)
		Expect(ok).To(BeFalse(), why)
		Expect(why).To(ContainSubstring("n2 applied 30 remote transactions twice, and only 20 are listed to match"))
		// With the list whole (20 of 20), the 20 straddle its crash recovery.
		wc, i := capture(checks)
		checks[i].Details = wc
		ok, why = scenarios.Explain([]scenarios.Finding{crash}, dir, checks)
		Expect(ok).To(BeTrue(), why)
		Expect(why).To(ContainSubstring("n2 applied 20 remote transactions again after its crash recovery (the 20 listed each committed before redo done at 0/19E7FA0 (09:04:24.797) and again after)"))
	})

	It("explains delta-counter-crash-restart seed 8: duplicates, counters too high and convergence's n, all on n2", func() {
		dir, checks := load("spock-delta-counter-crash-restart-s8")
		ok, why := scenarios.Explain([]scenarios.Finding{crash}, dir, checks)
		Expect(ok).To(BeTrue(), why)
		Expect(why).To(ContainSubstring("redo done at 0/170D4D0"))
		Expect(why).To(ContainSubstring("delta-counter: 4 counters too high"))
		Expect(why).To(ContainSubstring("public.delta_counter: 2 rows of origin n3, committed 09:00:35.48-09:00:35.48, on n1, n2, n3, differing in n: counters doubled on n2"))
	})

	It("does not explain them by the discard findings", func() {
		for _, name := range []string{"spock-crash-restart-s7", "spock-delta-counter-crash-restart-s8"} {
			dir, checks := load(name)
			ok, why := scenarios.Explain(scenarios.SpockFindings, dir, checks)
			Expect(ok).To(BeFalse(), name)
			Expect(why).To(ContainSubstring("no finding explains a transaction applied twice"))
		}
	})

	It("does not explain a duplicate whose both commits were written before the crash", func() {
		dir, checks := load("spock-crash-restart-s7")
		wc, i := capture(checks)
		d := &n2(wc).Duplicates[5]
		d.Commits[1].LSN = "0/019E7000" // before redo done at 0/19E7FA0
		checks[i].Details = wc
		ok, why := scenarios.Explain([]scenarios.Finding{crash}, dir, checks)
		Expect(ok).To(BeFalse())
		Expect(why).To(ContainSubstring("lsn " + d.OriginLSN + ": no crash recovery between its commits"))
	})

	It("does not explain a duplicate committed twice after the recovery", func() {
		dir, checks := load("spock-crash-restart-s7")
		wc, i := capture(checks)
		n2(wc).Duplicates[0].Commits[0].LSN = "0/019E9000"
		checks[i].Details = wc
		ok, _ := scenarios.Explain([]scenarios.Finding{crash}, dir, checks)
		Expect(ok).To(BeFalse())
	})

	It("does not explain duplicates whose commit times contradict the recovery", func() {
		dir, checks := load("spock-crash-restart-s7")
		wc, i := capture(checks)
		c := n2(wc).Duplicates[0].Commits
		c[0].At, c[1].At = "2026-12-06 09:04:20.100000 UTC", "2026-12-06 09:04:25.500000 UTC"
		checks[i].Details = wc
		ok, why := scenarios.Explain([]scenarios.Finding{crash}, dir, checks)
		Expect(ok).To(BeTrue(), why)               // times agree
		c[1].At = "2026-12-06 09:04:24.900000 UTC" // before ready (09:04:24.994)
		ok, why = scenarios.Explain([]scenarios.Finding{crash}, dir, checks)
		Expect(ok).To(BeFalse())
		Expect(why).To(ContainSubstring("before the server was ready again"))
		c[0].At, c[1].At = "2026-12-06 09:04:24.800000 UTC", "2026-12-06 09:04:25.500000 UTC" // after recovery began
		ok, why = scenarios.Explain([]scenarios.Finding{crash}, dir, checks)
		Expect(ok).To(BeFalse())
		Expect(why).To(ContainSubstring("not before the recovery began"))
	})

	It("does not explain duplicates on a node that never crashed", func() {
		dir, checks := load("spock-crash-restart-s7")
		Expect(os.MkdirAll(filepath.Join(dir, "nodes", "n3"), 0o755)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(dir, "nodes", "n3", "server.log"),
			[]byte("2026-12-06 09:04:08.093 UTC [1] LOG:  database system is ready to accept connections\n"), 0o644)).To(Succeed())
		wc, i := capture(checks)
		moved := *n2(wc)
		moved.Node = "n3"
		wc.Nodes = append(wc.Nodes, moved)
		checks[i].Details = wc
		ok, why := scenarios.Explain([]scenarios.Finding{crash}, dir, checks)
		Expect(ok).To(BeFalse())
		Expect(why).To(ContainSubstring("n3 applied 20 remote transactions twice, and its server log shows no crash recovery"))
	})

	It("does not explain a counter too high on a node that did not apply again, nor a lost increment", func() {
		for _, line := range []string{
			"key 1 on n3: 101206, more than every acknowledged and unknown increment (101060 + 0): 146 too many",
			"key 1 on n2: 101000, acknowledged increments sum to 101060: lost 60",
		} {
			dir, checks := load("spock-delta-counter-crash-restart-s8")
			for i := range checks {
				if checks[i].Name == verify.DeltaCheckName {
					checks[i].Details = append(checks[i].Details.([]any), line)
				}
			}
			ok, why := scenarios.Explain([]scenarios.Finding{crash}, dir, checks)
			Expect(ok).To(BeFalse(), line)
			Expect(why).To(ContainSubstring(strings.Split(line, ":")[0]))
		}
	})

	It("does not explain delta_counter rows where the nodes that never crashed disagree", func() {
		dir, checks := load("spock-delta-counter-crash-restart-s8")
		for i := range checks {
			if checks[i].Name != scenarios.CheckConvergence {
				continue
			}
			var rep verify.ConvergenceReport
			b, _ := json.Marshal(checks[i].Details)
			Expect(json.Unmarshal(b, &rep)).To(Succeed())
			other := "101061"
			rep.Tables[0].Rows[1].Versions[0].Values["n"] = &other // n1's key 1
			checks[i].Details = &rep
		}
		ok, why := scenarios.Explain([]scenarios.Finding{crash}, dir, checks)
		Expect(ok).To(BeFalse())
		Expect(why).To(ContainSubstring("nodes that never applied again disagree"))
	})

	It("does not explain a run in which another checker failed too", func() {
		dir, checks := load("spock-crash-restart-s7")
		wc, i := capture(checks)
		checks[i].Details = wc
		checks = append(checks, verify.CheckResult{Name: "atomicity", Verdict: verify.Fail, Summary: "1 partially present"})
		ok, why := scenarios.Explain([]scenarios.Finding{crash}, dir, checks)
		Expect(ok).To(BeFalse())
		Expect(why).To(ContainSubstring("atomicity failed"))
	})

	It("does not explain a run in which a checker could not judge", func() {
		dir, checks := load("spock-crash-restart-s7")
		checks = append(checks, verify.CheckResult{Name: "replication-health", Verdict: verify.Unknown, Summary: "timed out"})
		ok, why := scenarios.Explain([]scenarios.Finding{crash}, dir, checks)
		Expect(ok).To(BeFalse())
		Expect(why).To(ContainSubstring("replication-health could not judge"))
	})

	It("is carried by the crash scenarios on Spock only", func() {
		for _, name := range []string{"crash-restart", "delta-counter-crash-restart"} {
			s, err := scenarios.Lookup(name)
			Expect(err).NotTo(HaveOccurred())
			Expect(s.FindingsFor("spock")).To(ContainElement(crash), name)
			Expect(s.FindingsFor("pglogical")).To(BeEmpty(), name)
		}
	})
})

// loadRunDir copies a testdata run to a temporary directory and returns it
// with its failing checkers, decoded as a stored run's are.
func loadRunDir(name string) (string, []verify.CheckResult) {
	dir := GinkgoT().TempDir()
	src := filepath.Join("testdata", name)
	Expect(filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		Expect(err).NotTo(HaveOccurred())
		rel, _ := filepath.Rel(src, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		Expect(err).NotTo(HaveOccurred())
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})).To(Succeed())
	b, err := os.ReadFile(filepath.Join(dir, "run.json"))
	Expect(err).NotTo(HaveOccurred())
	var run record.Run
	Expect(json.Unmarshal(b, &run)).To(Succeed())
	return dir, run.Checkers
}

// testdata/spock-apply-worker-faults-s7: the failing checkers of an
// apply-worker-faults run on Spock 6.0 (seed 7, 2026-12-06) and n2's
// discard lines: n1's xid 34841 (5 rows) discarded after a SIGTERM;
// convergence, durability and exception-audit fail by it alone.
var _ = Describe("every failing checker of a discard's run explained", func() {
	edit := func(checks []verify.CheckResult, name string, f func(map[string]any)) {
		for i := range checks {
			if checks[i].Name == name {
				b, err := json.Marshal(checks[i].Details)
				Expect(err).NotTo(HaveOccurred())
				var m map[string]any
				Expect(json.Unmarshal(b, &m)).To(Succeed())
				f(m)
				checks[i].Details = m
				return
			}
		}
		Fail("no checker " + name)
	}

	It("explains convergence, durability and exception-audit by the SIGTERM's discard", func() {
		dir, checks := loadRunDir("spock-apply-worker-faults-s7")
		ok, why := scenarios.Explain(scenarios.SpockFindings, dir, checks)
		Expect(ok).To(BeTrue(), why)
		Expect(why).To(ContainSubstring("durability: the 1 lost transactions are the discarded ones"))
		Expect(why).To(ContainSubstring("exception-audit: its 5 rows are of the discarded (or held) transactions"))
	})

	It("does not explain a lost transaction on a node that discarded nothing", func() {
		dir, checks := loadRunDir("spock-apply-worker-faults-s7")
		edit(checks, "durability", func(m map[string]any) {
			m["lost_via_survivors"].([]any)[0].(map[string]any)["counts"].(map[string]any)["n3"] = 0.0
		})
		ok, why := scenarios.Explain(scenarios.SpockFindings, dir, checks)
		Expect(ok).To(BeFalse())
		Expect(why).To(ContainSubstring("durability: n3 has 0 of the 5 rows"))
	})

	// The same transaction acknowledged via a node that left or failed:
	// durability lists it as split among the survivors.
	asSplit := func(m map[string]any) map[string]any {
		lost := m["lost_via_survivors"].([]any)
		m["acknowledged_via_failed"] = map[string]any{"split": float64(len(lost)), "split_txns": lost}
		m["lost_via_survivors"], m["lost_count"] = []any{}, 0.0
		return m
	}

	It("explains a discarded transaction acknowledged via a node that left (split among the survivors)", func() {
		dir, checks := loadRunDir("spock-apply-worker-faults-s7")
		edit(checks, "durability", func(m map[string]any) { asSplit(m) })
		ok, why := scenarios.Explain(scenarios.SpockFindings, dir, checks)
		Expect(ok).To(BeTrue(), why)
		Expect(why).To(ContainSubstring("durability: the 1 lost transactions are the discarded ones"))
	})

	It("does not explain a split the list does not hold, nor one on a node that discarded nothing", func() {
		dir, checks := loadRunDir("spock-apply-worker-faults-s7")
		edit(checks, "durability", func(m map[string]any) {
			asSplit(m)["acknowledged_via_failed"].(map[string]any)["split"] = 2.0
		})
		ok, why := scenarios.Explain(scenarios.SpockFindings, dir, checks)
		Expect(ok).To(BeFalse())
		Expect(why).To(ContainSubstring("not only lost transactions, each listed"))

		dir, checks = loadRunDir("spock-apply-worker-faults-s7")
		edit(checks, "durability", func(m map[string]any) {
			m["lost_via_survivors"].([]any)[0].(map[string]any)["counts"].(map[string]any)["n3"] = 0.0
			asSplit(m)
		})
		ok, why = scenarios.Explain(scenarios.SpockFindings, dir, checks)
		Expect(ok).To(BeFalse())
		Expect(why).To(ContainSubstring("durability: n3 has 0 of the 5 rows"))
	})

	It("does not explain an exception_log row of a transaction not discarded", func() {
		dir, checks := loadRunDir("spock-apply-worker-faults-s7")
		edit(checks, scenarios.CheckExceptionAudit, func(m map[string]any) {
			m["unexplained_exceptions"].([]any)[4].(map[string]any)["remote_xid"] = 34842.0
		})
		ok, why := scenarios.Explain(scenarios.SpockFindings, dir, checks)
		Expect(ok).To(BeFalse())
		Expect(why).To(ContainSubstring("n2 never logged a discard (or a disable over it) the findings own of remote xid 34842"))
	})
})

// Two crash recoveries of one node (PostgreSQL 17's lines) and a restart
// with nothing to redo, which gives no boundary.
const twoCrashes = `2026-12-06 09:00:10.000 UTC [1] LOG:  database system is ready to accept connections
2026-12-06 09:00:20.500 UTC [16] LOG:  database system was not properly shut down; automatic recovery in progress
2026-12-06 09:00:20.510 UTC [16] LOG:  redo starts at 0/152F7E0
2026-12-06 09:00:20.550 UTC [16] LOG:  redo done at 0/1700000 system usage: CPU: user: 0.00 s, system: 0.00 s, elapsed: 0.05 s
2026-12-06 09:00:20.700 UTC [1] LOG:  database system is ready to accept connections
2026-12-06 09:00:30.500 UTC [16] LOG:  database system was not properly shut down; automatic recovery in progress
2026-12-06 09:00:30.510 UTC [16] LOG:  redo is not required
2026-12-06 09:00:30.700 UTC [1] LOG:  database system is ready to accept connections
2026-12-06 09:00:40.500 UTC [16] LOG:  database system was not properly shut down; automatic recovery in progress
2026-12-06 09:00:40.550 UTC [16] LOG:  redo done at 0/1800000 system usage: CPU: user: 0.00 s, system: 0.00 s, elapsed: 0.05 s
2026-12-06 09:00:40.700 UTC [1] LOG:  database system is ready to accept connections
`

var _ = DescribeTable("the crash rule: each two commits of a duplicate on either side of a crash recovery",
	func(log string, want bool, lsnAt ...string) {
		var commits []verify.WALCommit
		for i := 0; i < len(lsnAt); i += 2 {
			commits = append(commits, verify.WALCommit{XID: uint32(100 + i), LSN: lsnAt[i], At: lsnAt[i+1], Origin: 49708, OriginLSN: "0/1600000"})
		}
		n := verify.WALNodeCapture{Node: "n2", Duplicated: 1, Duplicates: []verify.DuplicateApply{{Node: "n2", Origin: 49708, OriginLSN: "0/1600000", Commits: commits}}}
		ok, why := scenarios.DuplicatesAcrossCrash(n, log)
		Expect(ok).To(Equal(want), why)
	},
	Entry("across the first recovery", twoCrashes, true, "0/16FFF00", "", "0/1710000", ""),
	Entry("the earlier commit is the last record replayed", twoCrashes, true, "0/1700000", "", "0/1710000", ""),
	Entry("across the second recovery", twoCrashes, true, "0/1750000", "", "0/1850000", ""),
	Entry("three commits, one recovery between each two", twoCrashes, true, "0/16FFF00", "", "0/1750000", "", "0/1850000", ""),
	Entry("three commits, two after the same recovery", twoCrashes, false, "0/16FFF00", "", "0/1710000", "", "0/1750000", ""),
	Entry("both between the recoveries", twoCrashes, false, "0/1710000", "", "0/1750000", ""),
	Entry("both before any crash", twoCrashes, false, "0/1600000", "", "0/16F0000", ""),
	Entry("times agree", twoCrashes, true, "0/16FFF00", "2026-12-06 09:00:20.400000 UTC", "0/1710000", "2026-12-06 09:00:21.000000 UTC"),
	Entry("the earlier commit's time after the recovery began", twoCrashes, false, "0/16FFF00", "2026-12-06 09:00:20.600000 UTC", "0/1710000", "2026-12-06 09:00:21.000000 UTC"),
	Entry("the later commit's time before the server was ready", twoCrashes, false, "0/16FFF00", "2026-12-06 09:00:20.400000 UTC", "0/1710000", "2026-12-06 09:00:20.650000 UTC"),
	Entry("a restart with nothing to redo gives no boundary", strings.Join(strings.Split(twoCrashes, "\n")[5:8], "\n"), false, "0/16FFF00", "", "0/1710000", ""),
	Entry("a clean restart is no crash", "2026-12-06 09:00:10.000 UTC [1] LOG:  database system was shut down at 2026-12-06 09:00:09 UTC\n2026-12-06 09:00:10.000 UTC [1] LOG:  database system is ready to accept connections\n", false, "0/16FFF00", "", "0/1710000", ""),
)
