package history_test

import (
	"encoding/json"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/workload/history"
)

// faultOp is a fault record of kind on node at second s.
func faultOp(kind, node string, s int, phase history.FaultPhase) history.Op {
	v, _ := json.Marshal(history.FaultEvent{Phase: phase})
	return history.Op{Type: history.Fault, F: kind, Node: node, Wall: time.Unix(int64(s), 0), Value: v}
}

// window is kind/node start-end in seconds (end 0: never healed) and its event count.
type window struct {
	Kind, Node        string
	Start, End, Count int64
}

func windows(ops []history.Op) []window {
	var out []window
	for _, w := range history.FaultWindows(ops) {
		end := int64(0)
		if !w.End.IsZero() {
			end = w.End.Unix()
		}
		out = append(out, window{w.Kind, w.Node, w.Start.Unix(), end, int64(len(w.Events))})
	}
	return out
}

var _ = DescribeTable("fault windows of a history",
	func(ops []history.Op, want []window) { Expect(windows(ops)).To(Equal(want)) },
	Entry("start, effective, heal, healed: one window ended by healed",
		[]history.Op{faultOp("lag", "n2", 1, history.FaultStart), faultOp("lag", "n2", 2, history.FaultEffective),
			faultOp("lag", "n2", 5, history.FaultHeal), faultOp("lag", "n2", 7, history.FaultHealed)},
		[]window{{"lag", "n2", 1, 7, 4}}),
	Entry("heal without healed ends it at the heal",
		[]history.Op{faultOp("pause", "n1", 1, history.FaultStart), faultOp("pause", "n1", 3, history.FaultHeal)},
		[]window{{"pause", "n1", 1, 3, 2}}),
	Entry("never healed: no end",
		[]history.Op{faultOp("kill", "n3", 4, history.FaultStart), faultOp("kill", "n3", 4, history.FaultEffective)},
		[]window{{"kill", "n3", 4, 0, 2}}),
	Entry("the same kind on another node is another window; after healed the same node again is a new one",
		[]history.Op{faultOp("lag", "n1", 1, history.FaultStart), faultOp("lag", "n2", 2, history.FaultStart),
			faultOp("lag", "n1", 3, history.FaultHealed), faultOp("lag", "n1", 4, history.FaultStart)},
		[]window{{"lag", "n1", 1, 3, 2}, {"lag", "n2", 2, 0, 1}, {"lag", "n1", 4, 0, 1}}),
	Entry("a heal with nothing open is dropped; client ops are ignored",
		[]history.Op{faultOp("lag", "n1", 1, history.FaultHealed), {Type: history.Invoke, Process: "n1-c0"}},
		[]window(nil)),
)
