package campaign_test

import (
	"encoding/json"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/campaign"
)

var _ = Describe("server settings in a campaign", func() {
	DescribeTable("parsing --sweep",
		func(arg string, want *campaign.Sweep, problem string) {
			got, err := campaign.ParseSweep(arg)
			if problem != "" {
				Expect(err).To(MatchError(ContainSubstring(problem)))
				return
			}
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(want))
		},
		Entry("three exception modes", "spock.exception_behaviour=transdiscard,discard,sub_disable",
			&campaign.Sweep{Name: "spock.exception_behaviour", Values: []string{"transdiscard", "discard", "sub_disable"}}, ""),
		Entry("blanks and a repeated value", "work_mem=4MB, 8MB,4MB", &campaign.Sweep{Name: "work_mem", Values: []string{"4MB", "8MB"}}, ""),
		Entry("no =", "work_mem", nil, "want NAME=VALUE,VALUE"),
		Entry("an empty value", "work_mem=4MB,,8MB", nil, "no value after ="),
		Entry("a bad name", "work-mem=4MB", nil, "is not a server setting name"),
	)

	sweep := campaign.Matrix{Scenarios: []string{"baseline"}, Seeds: []int64{5}, Targets: []campaign.Target{{Flavor: "spock", Image: "img:1"}},
		Settings: map[string]string{"spock.exception_logging": "all"},
		Sweep:    &campaign.Sweep{Name: "spock.exception_behaviour", Values: []string{"transdiscard", "discard", "sub_disable"}}}.Normalize()

	It("makes one cell per swept value, each named by it, with the campaign's settings and its own", func() {
		Expect(sweep.Validate()).To(Succeed())
		cells := sweep.Cells()
		Expect(cells).To(HaveLen(3))
		Expect(cells[2].ID()).To(Equal("baseline-s5-spock_img_1_spock.exception_behaviour_sub_disable-r1"))
		Expect(cells[2].String()).To(Equal("baseline seed 5 on spock@img:1 spock.exception_behaviour=sub_disable (repeat 1)"))
		Expect(sweep.RunOptions(cells[0]).Settings).To(Equal(map[string]string{"spock.exception_logging": "all", "spock.exception_behaviour": "transdiscard"}))
		Expect(sweep.Settings).To(HaveLen(1), "a cell's settings are its own copy")
		Expect(sweep.CellTargets()).To(HaveLen(3))
		var ids []string
		for _, s := range []campaign.Shard{{Index: 1, Count: 3}, {Index: 2, Count: 3}, {Index: 3, Count: 3}} {
			for _, c := range sweep.ShardCells(s) {
				ids = append(ids, c.ID())
			}
		}
		Expect(ids).To(HaveLen(3), "the shards share out every swept cell once")
		Expect(ids).To(ConsistOf(cells[0].ID(), cells[1].ID(), cells[2].ID()))
	})

	It("is part of the fingerprint, and a matrix without settings keeps the fingerprint it had", func() {
		plain := campaign.Matrix{Scenarios: []string{"baseline"}, Seeds: []int64{1}}.Normalize()
		b, err := json.Marshal(plain)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(b)).To(Equal(`{"scenarios":["baseline"],"seeds":[1],"targets":[{"flavor":"pglogical"}],"repeat":1}`))
		withSet := plain
		withSet.Settings = map[string]string{"work_mem": "8MB"}
		Expect(withSet.Fingerprint()).NotTo(Equal(plain.Fingerprint()))
		other := sweep
		other.Sweep = &campaign.Sweep{Name: "spock.exception_behaviour", Values: []string{"discard"}}
		Expect(other.Fingerprint()).NotTo(Equal(sweep.Fingerprint()))
	})

	It("refuses a sweep on a flavor that does not know the setting, and one setting both swept and set", func() {
		m := sweep
		m.Targets = []campaign.Target{{Flavor: "pglogical"}}
		m.Settings = nil
		Expect(m.Validate()).To(MatchError(ContainSubstring("flavor pglogical knows pglogical.* and plain PostgreSQL settings only, not spock.*")))
		m = sweep
		m.Settings = map[string]string{"spock.exception_behaviour": "discard"}
		Expect(m.Validate()).To(MatchError("setting spock.exception_behaviour is both swept (--sweep) and set (--set): give one"))
	})
})
