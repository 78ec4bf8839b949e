package bench

import (
	binenc "encoding/binary"

	"github.com/jackc/pgx/v5"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// fakeRows yields rows of raw values (an 8-byte big-endian id first), as
// the naive comparison reads them; nil is NULL.
type fakeRows struct {
	pgx.Rows
	rows [][][]byte
	at   int
}

func (r *fakeRows) Next() bool          { r.at++; return r.at <= len(r.rows) }
func (r *fakeRows) RawValues() [][]byte { return r.rows[r.at-1] }
func (r *fakeRows) Err() error          { return nil }

// row is id and values as raw bytes.
func row(id int64, vals ...[]byte) [][]byte {
	return append([][]byte{binenc.BigEndian.AppendUint64(nil, uint64(id))}, vals...)
}

func streamsOf(nodes ...[][][]byte) []*rowStream {
	var ss []*rowStream
	for _, rows := range nodes {
		s := &rowStream{rows: &fakeRows{rows: rows}}
		Expect(s.advance()).To(Succeed())
		ss = append(ss, s)
	}
	return ss
}

var _ = Describe("the naive merge", func() {
	a, b := []byte("a"), []byte("b")

	It("reports nothing for identical nodes", func() {
		n := [][][]byte{row(1, a), row(2, nil), row(3, b)}
		Expect(mergeStreams(streamsOf(n, n, n))).To(BeEmpty())
	})

	It("reports rows missing on a node, at the start, inside and at the end", func() {
		full := [][][]byte{row(1, a), row(2, a), row(3, a), row(4, a)}
		gaps := [][][]byte{row(2, a), row(4, a)}
		short := [][][]byte{row(1, a), row(2, a), row(3, a)}
		Expect(mergeStreams(streamsOf(full, gaps, short))).To(Equal(map[int64]bool{1: true, 3: true, 4: true}))
	})

	It("reports differing values, NULL unlike an empty value", func() {
		n1 := [][][]byte{row(1, a), row(2, nil), row(3, a)}
		n2 := [][][]byte{row(1, b), row(2, []byte{}), row(3, a)}
		Expect(mergeStreams(streamsOf(n1, n2))).To(Equal(map[int64]bool{1: true, 2: true}))
	})

	It("refuses an id that is not a bigint", func() {
		s := &rowStream{rows: &fakeRows{rows: [][][]byte{{[]byte{1, 2, 3, 4}}}}}
		Expect(s.advance()).To(MatchError(ContainSubstring("unexpected id encoding")))
	})
})
