package bench

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("parsePgbenchTPS", func() {
	It("reads the tps line of pgbench's report", func() {
		out := `transaction type: /tmp/spockchaos-ledger.sql
number of transactions actually processed: 12345
latency average = 1.620 ms
initial connection time = 8.114 ms
tps = 1234.567890 (without initial connection time)
`
		Expect(parsePgbenchTPS(out)).To(Equal(1234.56789))
	})

	It("quotes the last lines when there is none", func() {
		_, err := parsePgbenchTPS("a\nb\nc\nd\ne\nf\npgbench: error: connection refused\n")
		Expect(err).To(MatchError("no tps in output: c | d | e | f | pgbench: error: connection refused"))
	})
})
