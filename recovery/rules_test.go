package recovery

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("the recovery slot advancement rule", func() {
	// S's samples of its origin for X: (origin LSN in X's WAL, end of
	// S's commit record in S's WAL), oldest first.
	samples := []OriginSample{{Origin: 0x100, Local: 0xA000}, {Origin: 0x200, Local: 0xB000}, {Origin: 0x300, Local: 0xC000}, {Origin: 0x400, Local: 0xD000}}
	peer := func(name string, at LSN) PeerPosition { return PeerPosition{Node: name, Known: true, Origin: at} }

	It("moves to the newest sample at or below every peer's position, with that sample's origin LSN as the floor", func() {
		m := NextSlotPosition(0x9000, samples, []PeerPosition{peer("n3", 0x350), peer("n4", 0x400)})
		Expect(m.Move).To(BeTrue())
		Expect(m.To).To(Equal(LSN(0xC000)))
		Expect(m.Floor).To(Equal(LSN(0x300)))
	})

	It("takes a sample exactly at a peer's position (the peer has that transaction)", func() {
		m := NextSlotPosition(0x9000, samples, []PeerPosition{peer("n3", 0x200)})
		Expect(m).To(Equal(SlotMove{Move: true, To: 0xB000, Floor: 0x200, Why: m.Why}))
	})

	It("with no peer (two nodes: nobody could need the slot), moves to the newest sample", func() {
		Expect(NextSlotPosition(0x9000, samples, nil).To).To(Equal(LSN(0xD000)))
	})

	It("does not move while a peer lags behind every sample (a lag in force)", func() {
		m := NextSlotPosition(0x9000, samples, []PeerPosition{peer("n3", 0x500), peer("n4", 0x0FF)})
		Expect(m.Move).To(BeFalse())
		Expect(m.Why).To(ContainSubstring("no sample at or below the peers' position 0/FF"))
	})

	It("does not move when a peer's position could not be read (down, paused, partitioned from the host)", func() {
		m := NextSlotPosition(0x9000, samples, []PeerPosition{peer("n3", 0x500), {Node: "n4"}})
		Expect(m.Move).To(BeFalse())
		Expect(m.Why).To(Equal("position of n4 unknown"))
	})

	It("does not move for a peer that has applied nothing of X", func() {
		Expect(NextSlotPosition(0x9000, samples, []PeerPosition{peer("n3", 0)}).Move).To(BeFalse())
	})

	It("never moves backwards or to where it is", func() {
		m := NextSlotPosition(0xC000, samples, []PeerPosition{peer("n3", 0x350)})
		Expect(m.Move).To(BeFalse())
		Expect(m.Why).To(ContainSubstring("already at 0/C000"))
		Expect(NextSlotPosition(0xF000, samples, []PeerPosition{peer("n3", 0x450)}).Move).To(BeFalse())
	})

	It("ignores samples whose local LSN is unknown (S restarted: local_lsn reads 0/0 until S applies X again) or that precede any apply", func() {
		after := []OriginSample{{Origin: 0x100, Local: 0xA000}, {Origin: 0x400, Local: 0}, {Origin: 0, Local: 0xE000}}
		m := NextSlotPosition(0x9000, after, []PeerPosition{peer("n3", 0x500)})
		Expect(m.To).To(Equal(LSN(0xA000)))
		Expect(NextSlotPosition(0x9000, after[1:], []PeerPosition{peer("n3", 0x500)}).Move).To(BeFalse())
	})

	It("does not move without samples", func() {
		Expect(NextSlotPosition(0x9000, nil, []PeerPosition{peer("n3", 0x500)}).Move).To(BeFalse())
	})

})

var _ = Describe("the stream's safety rules", func() {
	DescribeTable("covers: the stream holds every transaction of the failed node a target lacks",
		func(p StreamProof, from LSN, want bool) {
			Expect(Covers(p, Position(from), from)).To(Equal(want))
		},
		Entry("a target at 0/0: everything it lacks is past the slot's position", StreamProof{}, LSN(0), true),
		Entry("a transaction at the target's position passed by", StreamProof{FirstPos: 0x2000, OriginTxns: 1}, LSN(0x2000), true),
		Entry("one before it passed by", StreamProof{FirstPos: 0x1000, OriginTxns: 1}, LSN(0x2000), true),
		Entry("the first one passed lies after the target: not proven", StreamProof{FirstPos: 0x2001, OriginTxns: 1}, LSN(0x2000), false),
		Entry("nothing passed, no floor: not proven", StreamProof{}, LSN(0x2000), false),
		Entry("a floor at the target's position", StreamProof{Floor: 0x2000, FloorSet: true}, LSN(0x2000), true),
		Entry("a floor past the target's position: not proven", StreamProof{Floor: 0x2001, FloorSet: true}, LSN(0x2000), false),
	)

	DescribeTable("floorValid: a floor message is a proof point only when valid from the stream's start",
		func(smp OriginSample, start LSN, want bool) { Expect(FloorValid(smp, start)).To(Equal(want)) },
		Entry("local LSN at the start", OriginSample{Origin: 0x100, Local: 0xA000}, LSN(0xA000), true),
		Entry("local LSN past the start", OriginSample{Origin: 0x100, Local: 0xA001}, LSN(0xA000), true),
		Entry("local LSN before the start (the slot moved past it)", OriginSample{Origin: 0x100, Local: 0x9FFF}, LSN(0xA000), false),
		Entry("local LSN unknown (a restart)", OriginSample{Origin: 0x100}, LSN(0), false),
		Entry("nothing applied yet", OriginSample{Local: 0xA000}, LSN(0xA000), false),
	)

	DescribeTable("completeness: a target's progress moves to the source's only over what is accounted for",
		func(p StreamProof, from LSN, unplaced bool, want GapReason) {
			Expect(Completeness(p, Position(from), from, unplaced)).To(Equal(want))
		},
		Entry("covered by a transaction it had", StreamProof{FirstPos: 0x1000, OriginTxns: 3}, LSN(0x1000), false, Complete),
		Entry("covered by a floor, with nothing of the failed node in the stream", StreamProof{Floor: 0x1000, FloorSet: true}, LSN(0x1000), false, Complete),
		Entry("nothing of the failed node, no floor", StreamProof{}, LSN(0x1000), false, NoFailedTxn),
		Entry("nothing of the failed node, a floor past the target", StreamProof{Floor: 0x1001, FloorSet: true}, LSN(0x1000), false, NoFailedTxn),
		Entry("a target whose position is unknown", StreamProof{FirstPos: 1, OriginTxns: 3}, LSN(0), true, UnplacedTarget),
		Entry("the stream starts after the target", StreamProof{FirstPos: 0x2000, OriginTxns: 3}, LSN(0x1000), false, NotCovered),
	)

	DescribeTable("reusable: a stream started before the fence serves the final plan",
		func(same bool, targets int, lowest, after Position, want bool) {
			Expect(Reusable(same, targets, lowest, after)).To(Equal(want))
		},
		Entry("same source, targets at its position", true, 2, Position(0x1000), Position(0x1000), true),
		Entry("same source, targets past it", true, 1, Position(0x1800), Position(0x1000), true),
		Entry("another source", false, 1, Position(0x1000), Position(0x1000), false),
		Entry("no target left", true, 0, Position(0x1000), Position(0x1000), false),
		Entry("a target behind it", true, 1, Position(0x0FFF), Position(0x1000), false),
	)
})
