package reference

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/recovery"
)

var _ = Describe("a floor message in the recovery stream", func() {
	ledger := relationMsg(16400, "public", "ledger", "*txn_id", "*seq", "origin", "payload")
	floor := func(origin, local string) string {
		return "sub_n2_n3 pgl_postgres_n3_sub_n2_n3 0/9000 0/9100\nsub_n2_n1 " + failedOrigin + " " + origin + " " + local
	}
	target := func(from recovery.LSN) *replayTarget {
		return &replayTarget{st: &survivorState{Survivor: recovery.Survivor{Name: "n3"}}, from: from, fromPos: position(from)}
	}
	source := &survivorState{Survivor: recovery.Survivor{Name: "n2"}, lsn: 0x5000}
	in := recovery.Input{Failed: "n1"}

	It("covers a target at or past its origin LSN when it is valid from the stream's start, and proves the stream complete", func() {
		a := newAssembler(failedOrigin, 0x2000, "c")
		a.start = 0xA000
		// The transaction of n1 placed right after the floor's sample:
		// the target has applied up to 0x2000 and lacks it.
		_, err := feedAll(a, ledger,
			begin(0xA100, 700), origin(0x2100, failedOrigin), insertMsg(16400, s("a"), s("1"), s("n1"), s("p")), commit(0xA100))
		Expect(err).NotTo(HaveOccurred())
		Expect(covered(a, target(0x2000))).To(BeFalse(), "no transaction at or before 0x2000 passed and no floor yet")
		_, err = feedAll(a, logicalMsg(recovery.FloorMessagePrefix, floor("0/2000", "0/A000")))
		Expect(err).NotTo(HaveOccurred())
		Expect(a.floorSet).To(BeTrue())
		Expect(a.floor).To(Equal(recovery.LSN(0x2000)))
		Expect(covered(a, target(0x2000))).To(BeTrue())
		Expect(covered(a, target(0x1FFF))).To(BeFalse(), "a target behind the floor may lack transactions before the stream's start")
		Expect(proveComplete(in, source, target(0x2000), 0x2000, a)).To(Succeed())
		Expect(proveComplete(in, source, target(0x1FFF), 0x1FFF, a)).To(MatchError(ContainSubstring("floor message at origin LSN 0/2000")))
	})

	It("is no proof when the slot has moved past its local LSN (the stream starts after it)", func() {
		a := newAssembler(failedOrigin, 0x2000, "c")
		a.start = 0xA001
		_, err := feedAll(a, logicalMsg(recovery.FloorMessagePrefix, floor("0/2000", "0/A000")))
		Expect(err).NotTo(HaveOccurred())
		Expect(a.floorSet).To(BeFalse())
		Expect(covered(a, target(0x3000))).To(BeFalse())
		a.stats.originTxns, a.stats.firstPos = 1, 0x4000
		Expect(proveComplete(in, source, target(0x3000), 0x3000, a)).To(MatchError(ContainSubstring("no floor message valid from the stream's start 0/A001")))
	})

	It("is ignored for another origin, for an unknown local LSN, and keeps the first (lowest) floor", func() {
		a := newAssembler(failedOrigin, 0x2000, "c")
		_, err := feedAll(a,
			logicalMsg(recovery.FloorMessagePrefix, "sub_n2_n1 other 0/1000 0/A000"),
			logicalMsg(recovery.FloorMessagePrefix, floor("0/1000", "0/0")),
			logicalMsg(recovery.FloorMessagePrefix, floor("0/2000", "0/A000")),
			logicalMsg(recovery.FloorMessagePrefix, floor("0/3000", "0/B000")))
		Expect(err).NotTo(HaveOccurred())
		Expect(a.floor).To(Equal(recovery.LSN(0x2000)))
	})

	It("lets a stream with nothing of the failed node prove a covered target complete (it lacked only empty transactions)", func() {
		a := newAssembler(failedOrigin, 0x2000, "c")
		a.floor, a.floorSet = 0x2000, true
		Expect(proveComplete(in, source, target(0x2000), 0x2000, a)).To(Succeed())
		a.floorSet = false
		Expect(proveComplete(in, source, target(0x2000), 0x2000, a)).To(MatchError(ContainSubstring("held no transaction of n1")))
	})

	Describe("where a recovery may advance its clone (streamStart)", func() {
		// The source's samples of its origin for the failed node.
		samples := []recovery.OriginSample{{Origin: 0x100, Local: 0xA000}, {Origin: 0x200, Local: 0xB000}, {Origin: 0x300, Local: 0xC000}, {Origin: 0x400, Local: 0xD000}}
		It("to the newest sample at or below every target's position, past the clone's start", func() {
			to, ok := recovery.StreamStart(0xA800, samples, []recovery.LSN{0x350, 0x420})
			Expect(ok).To(BeTrue())
			Expect(to).To(Equal(recovery.OriginSample{Origin: 0x300, Local: 0xC000}))
		})

		It("takes a sample exactly at a target's position (the target has that transaction)", func() {
			to, ok := recovery.StreamStart(0xA800, samples, []recovery.LSN{0x200})
			Expect(ok).To(BeTrue())
			Expect(to.Local).To(Equal(recovery.LSN(0xB000)))
		})

		It("not at all when every qualifying sample is at or before the clone's start (the keeper placed the slot already)", func() {
			_, ok := recovery.StreamStart(0xC000, samples, []recovery.LSN{0x350})
			Expect(ok).To(BeFalse())
		})

		It("not for a target that applied nothing of the failed node, nor one behind every sample, nor without targets", func() {
			for _, targets := range [][]recovery.LSN{{0x400, 0}, {0x0FF}, nil} {
				_, ok := recovery.StreamStart(0x9000, samples, targets)
				Expect(ok).To(BeFalse(), "targets %v", targets)
			}
		})

		It("ignores samples with nothing known (0/0 after a restart of the source)", func() {
			_, ok := recovery.StreamStart(0x9000, []recovery.OriginSample{{Origin: 0, Local: 0xF000}, {Origin: 0x100, Local: 0}}, []recovery.LSN{0x500})
			Expect(ok).To(BeFalse())
		})
	})
})
