package pgnode

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = DescribeTable("a flushed logical message by server version",
	func(num int, want string) {
		Expect(FlushedMessageSQL(num, "$1", "$2", true)).To(Equal(want))
	},
	Entry("17+: the message flushes itself", 170012,
		"SELECT pg_logical_emit_message(false, $1, $2, true)::text"),
	Entry("18", 180006,
		"SELECT pg_logical_emit_message(false, $1, $2, true)::text"),
	Entry("15: a transaction id and a synchronous commit flush it", 150018,
		"SELECT pg_logical_emit_message(false, $1, $2)::text FROM (SELECT set_config('synchronous_commit', 'on', true), pg_current_xact_id()) AS flush_at_commit"),
	Entry("unknown: the form every major takes", 0,
		"SELECT pg_logical_emit_message(false, $1, $2)::text FROM (SELECT set_config('synchronous_commit', 'on', true), pg_current_xact_id()) AS flush_at_commit"),
)

var _ = DescribeTable("pgoutput arguments by server version",
	func(num int, origin bool) {
		args := PgoutputArgs(num)
		Expect(args).To(ContainElement("proto_version '1'"))
		Expect(args).To(ContainElement("messages 'true'"))
		if origin {
			Expect(args).To(ContainElement("origin 'any'"))
		} else {
			Expect(args).NotTo(ContainElement(HavePrefix("origin")))
		}
	},
	Entry("15 has no origin option", 150018, false),
	Entry("16", 160000, true),
	Entry("17", 170012, true),
	Entry("unknown: as today", 0, true),
)
