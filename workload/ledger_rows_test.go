package workload_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/workload"
)

var _ = Describe("Reapplied", func() {
	It("names the rows whose version changed or vanished, sorted, and nothing when none did", func() {
		before := map[string]string{"a/1": "100", "a/2": "101", "b/1": "102"}
		Expect(workload.Reapplied(before, map[string]string{"a/1": "100", "a/2": "101", "b/1": "102", "c/1": "9"})).To(BeEmpty())
		Expect(workload.Reapplied(before, map[string]string{"a/1": "200", "a/2": "101"})).To(Equal([]string{"a/1", "b/1"}))
	})
})
