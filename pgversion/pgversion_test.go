package pgversion_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/pgversion"
)

var _ = Describe("Num", func() {
	DescribeTable("parses server_version as the server reports it",
		func(in string, want int) {
			got, err := pgversion.Num(in)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(want))
		},
		Entry("Debian 17", "17.12 (Debian 17.12-0+deb13u1)", 170012),
		Entry("Debian 15", "15.18 (Debian 15.18-0+deb12u1)", 150018),
		Entry("a development build", "18devel", 180000),
		Entry("a beta", "18beta1", 180000),
		Entry("plain", "16.4", 160004),
	)
	DescribeTable("refuses what is not a version it knows",
		func(in string) {
			_, err := pgversion.Num(in)
			Expect(err).To(HaveOccurred())
		},
		Entry("empty", ""),
		Entry("words", "unknown"),
		Entry("before 10", "9.6.24"),
	)
})

var _ = DescribeTable("Supported",
	func(num int, ok bool) {
		err := pgversion.Supported(num)
		if ok {
			Expect(err).NotTo(HaveOccurred())
		} else {
			Expect(err).To(MatchError(ContainSubstring("runs on PostgreSQL 15 to 18")))
		}
	},
	Entry("14", 140013, false),
	Entry("15", 150018, true),
	Entry("16", 160004, true),
	Entry("17", 170012, true),
	Entry("18", 180006, true),
	Entry("19", 190000, false),
)

var _ = DescribeTable("the features that differ by major",
	func(num int, snapshot, origin bool, proto int, flush bool) {
		Expect(pgversion.EmitMessageFlush(num)).To(Equal(flush), "pg_logical_emit_message's flush")
		Expect(pgversion.LogStandbySnapshot(num)).To(Equal(snapshot), "pg_log_standby_snapshot")
		Expect(pgversion.PgoutputOrigin(num)).To(Equal(origin), "pgoutput origin option")
		Expect(pgversion.PgoutputMaxProto(num)).To(Equal(proto), "pgoutput protocol")
		Expect(pgversion.Major(num)).To(Equal(num / 10000))
	},
	Entry("15.18", 150018, false, false, 3, false),
	Entry("16.0", 160000, true, true, 4, false),
	Entry("17.0", 170000, true, true, 4, true),
	Entry("17.12", 170012, true, true, 4, true),
	Entry("18.6", 180006, true, true, 4, true),
	Entry("unknown (0): none assumed", 0, false, false, 3, false),
)
