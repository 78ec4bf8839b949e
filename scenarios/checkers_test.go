package scenarios_test

import (
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
)

var _ = Describe("the checker registry", func() {
	It("refuses, at registration, a spec naming a checker it does not have", func() {
		Expect(func() {
			scenarios.Register(&scenarios.Spec{Name: "unknown-checker", Description: "x", Labels: []string{scenarios.LabelNightly},
				Nodes: 3, Timeout: time.Minute, Load: time.Second, Workload: "ledger", Recovery: "auto",
				Checkers: []string{"convergence", "vibes"}, Expect: "pass"})
		}).To(PanicWith(ContainSubstring(`unknown checker "vibes"`)))
	})

	It("re-runs on a stored run what can run without a cluster, and fails what the run lost", func() {
		dir := filepath.Join("..", "reports", "testdata", "seedrun")
		ops, err := record.LoadHistory(filepath.Join(dir, record.HistoryFile))
		Expect(err).NotTo(HaveOccurred())
		obs, err := os.ReadFile(filepath.Join(dir, record.ObservationFile))
		Expect(err).NotTo(HaveOccurred())
		results, err := scenarios.RecheckStored(ops, obs, []string{"n2", "n3"}, []string{"n1"})
		Expect(err).NotTo(HaveOccurred())
		var names []string
		for _, r := range results {
			names = append(names, r.Name)
		}
		Expect(names).To(ContainElements(verify.DurabilityCheckName, verify.AtomicityCheckName))
		Expect(names).NotTo(ContainElement(scenarios.CheckConvergence), "convergence needs the live servers")
		Expect(verify.Combine(results)).To(Equal(verify.Pass))

		lost := []byte(strings.Replace(string(obs), `"t-1": 2`, `"t-0": 2`, 1)) // n2 lost t-1
		results, err = scenarios.RecheckStored(ops, lost, []string{"n2", "n3"}, []string{"n1"})
		Expect(err).NotTo(HaveOccurred())
		Expect(verify.Combine(results)).To(Equal(verify.Fail))
	})

	It("re-judges exception-audit from the capture stored in the observation, and only when the run stored one", func() {
		dir := filepath.Join("..", "reports", "testdata", "seedrun")
		ops, err := record.LoadHistory(filepath.Join(dir, record.HistoryFile))
		Expect(err).NotTo(HaveOccurred())
		obs, err := os.ReadFile(filepath.Join(dir, record.ObservationFile))
		Expect(err).NotTo(HaveOccurred())
		audit := func(obs []byte) []verify.CheckResult {
			results, err := scenarios.RecheckStored(ops, obs, []string{"n2", "n3"}, []string{"n1"})
			Expect(err).NotTo(HaveOccurred())
			var out []verify.CheckResult
			for _, r := range results {
				if r.Name == scenarios.CheckExceptionAudit {
					out = append(out, r)
				}
			}
			return out
		}
		Expect(audit(obs)).To(BeEmpty(), "the seed run did not run exception-audit")
		with := func(capture string) []byte {
			return []byte(strings.Replace(string(obs), `"per_node"`, `"exceptions": `+capture+`, "per_node"`, 1))
		}
		clean := audit(with(`{"nodes": ["n2", "n3"]}`))
		Expect(clean).To(HaveLen(1))
		Expect(clean[0].Verdict).To(Equal(verify.Pass), clean[0].Summary)
		// planted: a discarded ledger transaction with no cause
		planted := audit(with(`{"nodes": ["n2", "n3"], "exceptions": [{"node": "n2", "origin": "n3", "subscription": "sub_n2_n3",
			"remote_xid": 812, "remote_commit_ts": "2026-12-06T05:00:01Z", "table": "ledger", "operation": "INSERT",
			"error_message": "transdiscard: tuple discarded due to exception (root cause not captured)", "retry_errored_at": "2026-12-06T05:00:02Z"}]}`))
		Expect(planted).To(HaveLen(1))
		Expect(planted[0].Verdict).To(Equal(verify.Fail))
		Expect(planted[0].Summary).To(ContainSubstring("n2: sub_n2_n3 (origin n3) remote xid 812"))
		na := audit(with(`{"not_applicable": "pglogical has no exception_log"}`))
		Expect(na[0].Verdict).To(Equal(verify.Skipped))
	})

	It("exception-audit is not applicable on pglogical: skipped with its reason, never a pass", func(ctx SpecContext) {
		pglogical, err := harness.LookupFlavor("pglogical")
		Expect(err).NotTo(HaveOccurred())
		res, capture := scenarios.ExceptionAudit(ctx, &harness.Cluster{Flavor: pglogical}, nil, nil)
		Expect(res.Verdict).To(Equal(verify.Skipped))
		Expect(res.Summary).To(ContainSubstring("not applicable: pglogical has no exception_log"))
		Expect(capture.NotApplicable).NotTo(BeEmpty())
	})

	It("says which stored file is bad", func() {
		_, err := scenarios.RecheckStored(nil, []byte(`{"per_node": 1}`), nil, nil)
		Expect(err).To(MatchError(ContainSubstring(record.ObservationFile)))
	})
})
