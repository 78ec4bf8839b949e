package reference

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/recovery"
)

var _ = Describe("the router", func() {
	// Positions are origin LSNs here (pglogical); on Spock they are commit
	// timestamps, which the router compares the same way.
	tx := func(pos position) *txn { return &txn{pos: pos, originLSN: recovery.LSN(pos)} }
	at := func(from recovery.LSN) routeTarget { return routeTarget{from: from, fromPos: position(from)} }
	held := func(n int) []*txn { return make([]*txn, n) }

	DescribeTable("decides per transaction and target",
		func(pos position, t routeTarget, p recovery.StreamProof, want verdict) {
			Expect(decide(pos, &t, p)).To(Equal(want))
		},
		Entry("skip: at the target's position (it has it)", position(0x2000), at(0x2000), recovery.StreamProof{FirstPos: 0x1000, OriginTxns: 1}, skip),
		Entry("skip: before the target's position", position(0x1800), at(0x2000), recovery.StreamProof{FirstPos: 0x1000, OriginTxns: 1}, skip),
		Entry("skip: a target cut off gets nothing more", position(0x3000), routeTarget{from: 0x2000, fromPos: 0x2000, cut: true}, recovery.StreamProof{FirstPos: 0x1000, OriginTxns: 1}, skip),
		Entry("replay: a transaction at or before the target passed by", position(0x3000), at(0x2000), recovery.StreamProof{FirstPos: 0x2000, OriginTxns: 1}, replay),
		Entry("replay: a target at 0/0 lacks everything", position(0x3000), at(0), recovery.StreamProof{}, replay),
		Entry("replay: a valid floor at or below the target", position(0x3000), at(0x2000), recovery.StreamProof{FirstPos: 0x3000, OriginTxns: 1, Floor: 0x2000, FloorSet: true}, replay),
		Entry("hold: not proven yet (stream starts after the target)", position(0x3000), at(0x2000), recovery.StreamProof{FirstPos: 0x3000, OriginTxns: 1}, hold),
		Entry("hold: a floor above the target proves nothing for it", position(0x3000), at(0x2000), recovery.StreamProof{FirstPos: 0x3000, OriginTxns: 1, Floor: 0x2001, FloorSet: true}, hold),
		Entry("gap: not proven and maxHeld held already", position(0x3000), routeTarget{from: 0x2000, fromPos: 0x2000, held: held(maxHeld)}, recovery.StreamProof{FirstPos: 0x3000, OriginTxns: 1}, gap),
	)

	It("cuts off at once a target behind the position the stream was started for", func() {
		r, out := newRouter(0x2000, []routeTarget{at(0x2000), at(0x1FFF)})
		Expect(out.cut).To(Equal([]cutOff{{target: 1, behind: true}}))
		Expect(r.route(tx(0x2100), recovery.StreamProof{FirstPos: 0x1000, OriginTxns: 1}).send).To(Equal([]delivery{{target: 0, txns: []*txn{tx(0x2100)}}}))
	})

	It("holds for a target until the proof comes, then sends what it held first, in order", func() {
		r, _ := newRouter(0x1000, []routeTarget{at(0x1000), at(0x2000)})
		noProof := recovery.StreamProof{FirstPos: 0x2100, OriginTxns: 1}
		out := r.route(tx(0x2100), noProof)
		// Neither target is covered: the stream's first transaction of
		// the failed node lies past both.
		Expect(out.send).To(BeEmpty())
		Expect(out.cut).To(BeEmpty())
		Expect(r.settled(noProof)).To(BeFalse())
		floor := recovery.StreamProof{FirstPos: 0x2100, OriginTxns: 2, Floor: 0x1000, FloorSet: true}
		out = r.route(tx(0x2200), floor)
		Expect(out.send).To(Equal([]delivery{
			{target: 0, txns: []*txn{tx(0x2100), tx(0x2200)}},
			{target: 1, txns: []*txn{tx(0x2100), tx(0x2200)}},
		}))
		Expect(r.settled(floor)).To(BeTrue())
	})

	It("cuts a target off with the first position it was offered once maxHeld are held", func() {
		r, _ := newRouter(0x1000, []routeTarget{at(0x1000)})
		p := recovery.StreamProof{FirstPos: 0x1001, OriginTxns: 1}
		r.targets[0].held = held(maxHeld - 1)
		r.targets[0].held[0] = tx(0x1001)
		Expect(r.route(tx(0x5000), p).cut).To(BeEmpty(), "the last one that fits is held")
		Expect(r.route(tx(0x5001), p).cut).To(Equal([]cutOff{{target: 0, first: 0x1001}}))
		Expect(r.targets[0].held).To(BeEmpty())
		Expect(r.route(tx(0x5002), recovery.StreamProof{FirstPos: 0x1000, OriginTxns: 1}).send).To(BeEmpty(), "nothing more once cut off")
		Expect(r.settled(p)).To(BeTrue(), "a target cut off does not hold the stream")
	})

	DescribeTable("settles what is still held when the decoding ends",
		func(p recovery.StreamProof, decoded bool, wantSend bool) {
			r, _ := newRouter(0x1000, []routeTarget{at(0x1000)})
			r.route(tx(0x2000), recovery.StreamProof{FirstPos: 0x2000, OriginTxns: 1})
			out := r.finish(p, decoded)
			if wantSend {
				Expect(out.send).To(Equal([]delivery{{target: 0, txns: []*txn{tx(0x2000)}}}))
				Expect(out.cut).To(BeEmpty())
			} else {
				Expect(out.send).To(BeEmpty())
				Expect(out.cut).To(Equal([]cutOff{{target: 0, first: 0x2000}}))
			}
			Expect(r.targets[0].held).To(BeEmpty())
		},
		Entry("sent: proven covered by the end", recovery.StreamProof{FirstPos: 0x2000, OriginTxns: 1, Floor: 0x1000, FloorSet: true}, true, true),
		Entry("cut off: never proven", recovery.StreamProof{FirstPos: 0x2000, OriginTxns: 1}, true, false),
		Entry("cut off: the decoding failed, even if proven", recovery.StreamProof{FirstPos: 0x2000, OriginTxns: 1, Floor: 0x1000, FloorSet: true}, false, false),
	)

	DescribeTable("keeps, copies and replays only what a target lacks",
		func(got, want bool) { Expect(got).To(Equal(want)) },
		Entry("keeps past after", keeps(0x1000, 0x1001), true),
		Entry("not at after", keeps(0x1000, 0x1000), false),
		Entry("copies user schemas", copies("public"), true),
		Entry("not pglogical's", copies("pglogical"), false),
		Entry("not spock's", copies("spock"), false),
		Entry("not the harness's barrier", copies("spockchaos"), false),
		Entry("replays for a target behind the source", needsReplay(0x1000, 0x1001), true),
		Entry("not for one at the source", needsReplay(0x1001, 0x1001), false),
	)
})
