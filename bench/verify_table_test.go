package bench

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("differences", func() {
	for _, nodes := range []int{2, 3, 9} {
		It(fmt.Sprintf("touches distinct keys on %d nodes, one past the last row", nodes), func() {
			const rows = 1000
			diffs := differences(rows, nodes)
			Expect(diffs).To(HaveLen(6))
			ids := map[int64]bool{}
			for _, d := range diffs {
				Expect(d.node).To(BeNumerically("<", nodes))
				Expect(d.id).To(BeNumerically(">=", 1))
				Expect(d.id).To(BeNumerically("<=", rows+1))
				Expect(ids).NotTo(HaveKey(d.id))
				ids[d.id] = true
			}
			Expect(ids).To(HaveKey(int64(rows + 1)))
		})
	}

	It("keeps the keys distinct at the smallest table", func() {
		ids := map[int64]bool{}
		for _, d := range differences(10, 3) {
			ids[d.id] = true
		}
		Expect(ids).To(HaveLen(6))
	})
})

var _ = Describe("found", func() {
	want := map[int64]bool{1: true, 2: true, 3: true}

	It("counts the injected keys reported and the others", func() {
		got := map[int64]bool{1: true, 3: true, 9: true}
		Expect(found(want, got)).To(Equal(Found{Injected: 2, Want: 3, Other: 1}))
		Expect(sameKeys(want, got)).To(BeFalse())
	})

	It("is all found exactly when the same keys were reported", func() {
		got := map[int64]bool{1: true, 2: true, 3: true}
		Expect(found(want, got)).To(Equal(Found{Injected: 3, Want: 3}))
		Expect(sameKeys(want, got)).To(BeTrue())
		Expect(sameKeys(want, map[int64]bool{1: true, 2: true})).To(BeFalse())
	})
})
