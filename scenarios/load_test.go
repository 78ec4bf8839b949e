package scenarios_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/workload"
)

var _ = DescribeTable("the nodes of a load progress line",
	func(planned []string, with []string, want []string) {
		perNode := map[string]workload.NodeStats{}
		for _, n := range with {
			perNode[n] = workload.NodeStats{Ok: 1}
		}
		Expect(scenarios.ProgressNodes(planned, perNode)).To(Equal(want))
	},
	Entry("the plan's order", []string{"n2", "n1", "n3"}, []string{"n1", "n2", "n3"}, []string{"n2", "n1", "n3"}),
	Entry("a planned node without figures is left out", []string{"n1", "n2", "n3"}, []string{"n1", "n3"}, []string{"n1", "n3"}),
	Entry("a joined node comes after the plan's", []string{"n1", "n2", "n3"}, []string{"n4", "n1", "n2", "n3"}, []string{"n1", "n2", "n3", "n4"}),
	Entry("several joined nodes, sorted", []string{"n1"}, []string{"n3", "n1", "n2"}, []string{"n1", "n2", "n3"}),
)
