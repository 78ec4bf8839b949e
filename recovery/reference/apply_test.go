package reference

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/recovery"
)

var _ = Describe("the replay statements", func() {
	var ap *applier
	rel := &relation{schema: "public", name: "ledger", cols: []relColumn{{"txn_id", true}, {"seq", true}, {"origin", false}, {"payload", false}}}
	t := &txn{commitTime: pgEpochTS}

	BeforeEach(func() {
		ap = newApplier(nil, "n3")
		ap.colTypes["public.ledger"] = map[string]string{"txn_id": "text", "seq": "integer", "origin": "text", "payload": "text"}
	})

	It("inserts with an upsert that only overwrites an older commit (last update wins)", func() {
		sql, args, err := ap.changeSQL(context.TODO(), change{kind: 'I', rel: rel, new: []value{{'t', "a"}, {'t', "1"}, {'t', "n1"}, {'n', ""}}}, t)
		Expect(err).NotTo(HaveOccurred())
		Expect(sql).To(Equal(`INSERT INTO "public"."ledger" AS cur ("txn_id", "seq", "origin", "payload") VALUES ($1::text::text, $2::text::integer, $3::text::text, $4::text::text)` +
			` ON CONFLICT ("txn_id", "seq") DO UPDATE SET "txn_id" = EXCLUDED."txn_id", "seq" = EXCLUDED."seq", "origin" = EXCLUDED."origin", "payload" = EXCLUDED."payload"` +
			` WHERE (pg_xact_commit_timestamp(cur.xmin) IS NULL OR pg_xact_commit_timestamp(cur.xmin) < $5::timestamptz)`))
		Expect(args).To(Equal([]any{"a", "1", "n1", nil, pgEpochTS}))
	})

	It("updates by the old key when sent, leaving unchanged TOAST columns alone", func() {
		sql, args, err := ap.changeSQL(context.TODO(), change{kind: 'U', rel: rel,
			old: []value{{'t', "a"}, {'t', "1"}, {'n', ""}, {'n', ""}},
			new: []value{{'t', "b"}, {'t', "1"}, {'t', "n1"}, {'u', ""}}}, t)
		Expect(err).NotTo(HaveOccurred())
		Expect(sql).To(Equal(`UPDATE "public"."ledger" AS cur SET "txn_id" = $1::text::text, "seq" = $2::text::integer, "origin" = $3::text::text` +
			` WHERE cur."txn_id" = $4::text::text AND cur."seq" = $5::text::integer AND (pg_xact_commit_timestamp(cur.xmin) IS NULL OR pg_xact_commit_timestamp(cur.xmin) < $6::timestamptz)`))
		Expect(args).To(Equal([]any{"b", "1", "n1", "a", "1", pgEpochTS}))
	})

	It("deletes by key under the same rule, and refuses a table without a key", func() {
		sql, _, err := ap.changeSQL(context.TODO(), change{kind: 'D', rel: rel, old: []value{{'t', "a"}, {'t', "1"}, {'n', ""}, {'n', ""}}}, t)
		Expect(err).NotTo(HaveOccurred())
		Expect(sql).To(HavePrefix(`DELETE FROM "public"."ledger" AS cur WHERE cur."txn_id" = $1::text::text AND cur."seq" = $2::text::integer AND (`))
		nokey := &relation{schema: "public", name: "ledger", cols: []relColumn{{"txn_id", false}, {"seq", false}, {"origin", false}, {"payload", false}}}
		_, _, err = ap.changeSQL(context.TODO(), change{kind: 'D', rel: nokey, old: []value{{'t', "a"}, {'t', "1"}, {'n', ""}, {'n', ""}}}, t)
		Expect(err).To(MatchError(ContainSubstring("no replica identity key")))
	})
})

var _ = Describe("source choice", func() {
	st := func(name string, lsn recovery.LSN) *survivorState {
		return &survivorState{Survivor: recovery.Survivor{Name: name}, lsn: lsn}
	}

	It("takes the survivor with the highest progress as source and every one behind it as a target", func() {
		src, targets := plan([]*survivorState{st("n3", 0x10), st("n2", 0x30), st("n4", 0x30), st("n5", 0x20)})
		Expect(src.Name).To(Equal("n2"))
		Expect(targets).To(HaveLen(2))
		Expect(targets[0].Name).To(Equal("n3"))
		Expect(targets[1].Name).To(Equal("n5"))
	})

	It("has no target when every survivor is at the same progress", func() {
		src, targets := plan([]*survivorState{st("n2", 0x30), st("n3", 0x30)})
		Expect(src).NotTo(BeNil())
		Expect(targets).To(BeEmpty())
	})
})
