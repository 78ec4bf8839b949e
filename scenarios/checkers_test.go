package scenarios_test

import (
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

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

	It("says which stored file is bad", func() {
		_, err := scenarios.RecheckStored(nil, []byte(`{"per_node": 1}`), nil, nil)
		Expect(err).To(MatchError(ContainSubstring(record.ObservationFile)))
	})
})
