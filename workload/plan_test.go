package workload_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/workload"
)

var _ = Describe("workload registry and plans", func() {
	It("knows every workload of the contract", func() {
		Expect(workload.Names()).To(ContainElements("ledger", "bank", "hotkey", "ycsb", "ycsb-a", "ycsb-f"))
		for _, name := range workload.Names() {
			w, err := workload.Lookup(name)
			Expect(err).NotTo(HaveOccurred())
			Expect(w.Name()).To(Equal(name))
			Expect(w.Schema()).To(ContainSubstring("CREATE TABLE"))
		}
		_, err := workload.Lookup("nope")
		Expect(err).To(MatchError(ContainSubstring("unknown workload")))
	})

	DescribeTable("replays the same choices for the same seed, and others for another seed",
		func(name string) {
			nodes := []string{"n1", "n2", "n3"}
			a, err := workload.Plan(name, 7, nodes, 2, 20)
			Expect(err).NotTo(HaveOccurred())
			Expect(a).To(HaveLen(3 * 2 * 20))
			b, err := workload.Plan(name, 7, nodes, 2, 20)
			Expect(err).NotTo(HaveOccurred())
			Expect(b).To(Equal(a))
			c, err := workload.Plan(name, 8, nodes, 2, 20)
			Expect(err).NotTo(HaveOccurred())
			Expect(c).NotTo(Equal(a))
		},
		Entry("ledger", "ledger"),
		Entry("bank", "bank"),
		Entry("hotkey", "hotkey"),
		Entry("conflict", "conflict"),
		Entry("toast", "toast"),
		Entry("pk-race", "pk-race"),
		Entry("delta-counter", "delta-counter"),
		Entry("unique-conflict", "unique-conflict"),
		Entry("unique-conflict-no-delete", "unique-conflict-no-delete"),
		Entry("schema-features", "schema-features"),
		Entry("schema-truncate", "schema-truncate"),
		Entry("ycsb a", "ycsb"),
		Entry("ycsb d (latest, inserts)", "ycsb-d"),
		Entry("ycsb e (scans)", "ycsb-e"),
		Entry("ycsb f (read-modify-write)", "ycsb-f"),
	)

	It("plans bank transfers between two distinct accounts of the client's own node", func() {
		lines, err := workload.Plan("bank", 1, []string{"n1", "n2"}, 1, 50)
		Expect(err).NotTo(HaveOccurred())
		for _, l := range lines {
			if strings.HasPrefix(l, "n2-c0 ") {
				Expect(l).To(ContainSubstring(`"owner":"n2"`))
				Expect(l).To(MatchRegexp(`"from":1\d,"to":1\d`))
			}
		}
	})

	It("plans ycsb read-modify-write as one op", func() {
		lines, err := workload.Plan("ycsb-f", 3, []string{"n1"}, 1, 50)
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.Join(lines, "\n")).To(ContainSubstring("ycsb-read-modify-write"))
		Expect(strings.Join(lines, "\n")).To(ContainSubstring("ycsb-read "))
	})
})
