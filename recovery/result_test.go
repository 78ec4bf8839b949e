package recovery

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("Result.Merge", func() {
	It("adds a later recovery to the run's: counts add up, lists concatenate, nothing to recover only if both say so", func() {
		r := &Result{Strategy: "reference", FailedNode: "n1", TransactionsRecovered: 3, RowsRecovered: 9, NothingToRecover: true,
			Note: "first", PerPair: []Pair{{Target: "n3"}}, Errors: []string{"e1"}, Survivors: []string{"n2", "n3"}}
		r.Merge(&Result{FailedNode: "n2", TransactionsRecovered: 2, RowsRecovered: 4, NothingToRecover: false,
			Note: "second", PerPair: []Pair{{Target: "n4"}}, Findings: []string{"f"}, Survivors: []string{"n4"}})
		Expect(r.FailedNode).To(Equal("n1,n2"))
		Expect(r.TransactionsRecovered).To(BeEquivalentTo(5))
		Expect(r.RowsRecovered).To(BeEquivalentTo(13))
		Expect(r.NothingToRecover).To(BeFalse())
		Expect(r.Note).To(Equal("first | second"))
		Expect(r.PerPair).To(Equal([]Pair{{Target: "n3"}, {Target: "n4"}}))
		Expect(r.Errors).To(Equal([]string{"e1"}))
		Expect(r.Findings).To(Equal([]string{"f"}))
		Expect(r.Survivors).To(Equal([]string{"n2", "n3"}), "the first recovery's")
	})

	It("keeps nothing to recover when both recoveries had nothing, and the note when the later has none", func() {
		r := &Result{FailedNode: "n1", NothingToRecover: true, Note: "first"}
		r.Merge(&Result{FailedNode: "n2", NothingToRecover: true})
		Expect(r.NothingToRecover).To(BeTrue())
		Expect(r.Note).To(Equal("first"))
	})
})
