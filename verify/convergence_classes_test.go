package verify_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/verify"
)

var _ = Describe("divergence classes", func() {
	def := verify.NewTableDef("public", "ledger", []string{"txn_id"}, verify.NewColumn("txn_id", "text"), verify.NewColumn("payload", "text"))
	nodes := []string{"n1", "n2"}
	// pglogical stamps an applied row with the subscription's named
	// origin, which the node's catalog maps to the provider.
	origins := map[string]string{"pgl_postgres_n3_sub_n2_n3": "n3", "pgl_postgres_n3_sub_n1_n3": "n3"}
	at := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339Nano, "2026-12-01T"+s+"Z")
		Expect(err).NotTo(HaveOccurred())
		return t
	}
	row := func(key, payload, ts, origin string) *verify.FetchedRow {
		return verify.NewFetchedRowAt("("+key+")", key+payload, []*string{&key}, []*string{&key, &payload}, at(ts), origin)
	}

	It("groups rows by presence, differing columns and origin, largest class first, counting every row", func() {
		var rows [][]*verify.FetchedRow
		for i, ts := range []string{"19:32:56.091", "19:32:57.5", "19:32:58.084"} {
			k := string(rune('a' + i))
			rows = append(rows, []*verify.FetchedRow{nil, row(k, "p", ts, "pgl_postgres_n3_sub_n2_n3")})
		}
		// one row both nodes have, written locally on each, differing
		rows = append(rows, []*verify.FetchedRow{row("z", "x", "19:33:00", "local"), row("z", "y", "19:33:01", "local")})
		classes := verify.ClassesOf(def, nodes, origins, rows)
		Expect(classes).To(HaveLen(2))
		Expect(classes[0].Rows).To(BeEquivalentTo(3))
		Expect(classes[0].Line).To(Equal("public.ledger: 3 rows of origin n3, committed 19:32:56.09-19:32:58.08, on n2 but not on n1"))
		Expect(classes[0].Examples).To(Equal([]string{"(a)", "(b)", "(c)"}))
		Expect(classes[0].AbsentOn).To(Equal([]string{"n1"}))
		Expect(classes[1].Line).To(Equal("public.ledger: 1 row of origins n1, n2, committed 19:33:00.00-19:33:01.00, on n1, n2, differing in payload"))
		Expect(classes[1].DifferingColumns).To(Equal([]string{"payload"}))
	})

	It("keeps at most five example keys and writes counts with thousands separators", func() {
		var rows [][]*verify.FetchedRow
		for i := range 11605 {
			k := string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))
			rows = append(rows, []*verify.FetchedRow{nil, row(k, "p", "19:32:56.091", "pgl_postgres_n3_sub_n2_n3")})
		}
		classes := verify.ClassesOf(def, nodes, origins, rows)
		Expect(classes).To(HaveLen(1))
		Expect(classes[0].Examples).To(HaveLen(5))
		Expect(classes[0].Line).To(Equal("public.ledger: 11,605 rows of origin n3, committed 19:32:56.09, on n2 but not on n1"))
	})
})
