package verify_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/verify"
)

var _ = Describe("the range-hash SQL", func() {
	def := verify.NewTableDef("s", "My Table", []string{"b", "a"},
		verify.NewTypedColumn("a", "integer", "int4"),
		verify.NewTypedColumn("b", "text", "text"),
		verify.NewTypedColumn("n", "numeric(10,2)", "numeric"),
		verify.NewTypedColumn("f", "double precision", "float8"),
		verify.NewTypedColumn("m", "mood", ""),
	)

	It("hashes exactly hashable columns in one record, numerics with their scale and text in the C collation", func() {
		q := verify.BucketHashSQL(def, 64, 0, false)
		Expect(q).To(ContainSubstring(`hash_record_extended(ROW(t."a", t."b" COLLATE "C", t."n", scale(t."n")), 3)`))
	})

	It("hashes types without an exact hash through their text, column by column, with NULL as a constant of the position", func() {
		q := verify.BucketHashSQL(def, 64, 0, false)
		Expect(q).To(ContainSubstring(`coalesce(hashtextextended(t."f"::text, 23774), `))
		Expect(q).To(ContainSubstring(`coalesce(hashtextextended(t."m"::text, 31693), `))
	})

	It("seeds every key column position differently", func() {
		q := verify.BucketHashSQL(def, 64, 0, false)
		Expect(q).To(ContainSubstring(`coalesce(hashtextextended(t."b" COLLATE "C", 17), `))
		Expect(q).To(ContainSubstring(`coalesce(hashint4extended(t."a", 7936), `))
	})

	It("quotes identifiers and puts the moduli in as literals", func() {
		q := verify.BucketHashSQL(def, 128, 64, true)
		Expect(q).To(ContainSubstring(`FROM "s"."My Table" t`))
		Expect(q).To(ContainSubstring("s.kh % 128"))
		Expect(q).To(MatchRegexp(`WHERE \(\(coalesce\(hashtextextended\(t."b" COLLATE "C", 17\), \d+\) # .*\) & \d+\) % 64 = ANY\(\$1::int8\[\]\) OFFSET 0\) s GROUP BY 1$`))
		Expect(verify.BucketHashSQL(def, 128, 0, false)).NotTo(ContainSubstring("WHERE"))
	})

	It("buckets by the key columns only, in key order", func() {
		q := verify.FetchRowsSQL(def, true)
		Expect(q).To(ContainSubstring(`WHERE ((coalesce(hashtextextended(t."b" COLLATE "C", 17), `))
		Expect(q).To(ContainSubstring(`ROW(t."b", t."a")::text`))
		Expect(q).To(ContainSubstring("pg_xact_commit_timestamp_origin(t.xmin)"))
		Expect(verify.FetchRowsSQL(def, false)).NotTo(ContainSubstring("pg_xact_commit_timestamp_origin"))
	})

	It("hashes a table without a key as an order-free sum that counts repeated rows", func() {
		q := verify.WholeTableHashSQL(def)
		Expect(q).To(ContainSubstring("sum(s.h::numeric)"))
		Expect(q).To(ContainSubstring("count(*)"))
	})
})
