package reference

import (
	"encoding/hex"
	"fmt"

	"github.com/jackc/pglogrepl"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/recovery"
)

// passed runs msgs through r and names the ones it lets through: B, C, M
// (with the LSN each carries), R, I.
func passed(r *resume, msgs ...wire) []string {
	var out []string
	for _, m := range msgs {
		parsed, err := pglogrepl.Parse(m)
		Expect(err).NotTo(HaveOccurred())
		if r.skip(parsed) {
			continue
		}
		switch p := parsed.(type) {
		case *pglogrepl.BeginMessage:
			out = append(out, fmt.Sprintf("B%X", uint64(p.FinalLSN)))
		case *pglogrepl.CommitMessage:
			out = append(out, fmt.Sprintf("C%X", uint64(p.CommitLSN)))
		case *pglogrepl.LogicalDecodingMessage:
			out = append(out, fmt.Sprintf("M%X", uint64(p.LSN)))
		case *pglogrepl.RelationMessage:
			out = append(out, "R")
		default:
			out = append(out, "I")
		}
	}
	return out
}

var _ = Describe("a second peek of the same slot (resume)", func() {
	ledger := relationMsg(16400, "public", "ledger", "*txn_id", "*seq", "origin", "payload")
	row := insertMsg(16400, s("t"), s("1"), s("n1"), s("p"))
	// In WAL order: a transaction whose commit record starts at 0x1000
	// (and ends at 0x1008), a non-transactional message ending at 0x1100,
	// a transaction whose commit record starts exactly there.
	first := []wire{ledger, begin(0x1000, 700), row, commit(0x1000), logicalMsgAt(0x1100, recovery.FloorMessagePrefix, ""), begin(0x1100, 701), row, commit(0x1100)}
	later := []wire{begin(0x1200, 702), row, commit(0x1200), logicalMsgAt(0x1300, recovery.EndMarkerPrefix, "m")}

	It("lets everything through on a first peek, the transaction right after a message included", func() {
		var r resume
		Expect(passed(&r, first...)).To(Equal([]string{"R", "B1000", "I", "C1000", "M1100", "B1100", "I", "C1100"}))
		Expect(r.last).To(Equal(recovery.LSN(0x1108)), "where the last commit record fed ends")
	})

	It("passes over what the first peek fed, and feeds the relation again and what follows", func() {
		var r resume
		passed(&r, first...)
		again := append(append([]wire{}, first...), later...)
		Expect(passed(&r, again...)).To(Equal([]string{"R", "B1200", "I", "C1200", "M1300"}))
	})

	It("passes over a message the first peek fed even when no transaction followed it", func() {
		var r resume
		passed(&r, first[:5]...)
		Expect(passed(&r, first...)).To(Equal([]string{"R", "B1100", "I", "C1100"}))
	})

	It("feeds the rows of a peek (bytea as hex) and refuses any other form", func() {
		a := newAssembler(failedOrigin, 0, "m")
		var r resume
		var got []*txn
		deliver := func(t *txn) error { got = append(got, t); return nil }
		for _, m := range []wire{ledger, begin(0x1000, 700), origin(0x2100, failedOrigin), row, commit(0x1000)} {
			Expect(feedRow([]byte(`\x`+hex.EncodeToString(m)), a, &r, deliver)).To(Succeed())
		}
		Expect(got).To(HaveLen(1))
		Expect(got[0].originLSN).To(Equal(recovery.LSN(0x2100)))
		Expect(feedRow([]byte(`B\000`), a, &r, deliver)).To(MatchError(ContainSubstring("not hex bytea")))
		Expect(feedRow([]byte(`\xZZ`), a, &r, deliver)).To(HaveOccurred())
	})
})
