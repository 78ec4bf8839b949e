package scenarios_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/scenarios"
)

var _ = Describe("server settings of a run", func() {
	spec, _ := scenarios.Lookup("lagged-kill-recovery")

	It("are in the replay command, sorted, quoted where a shell needs it", func() {
		got := scenarios.ReplayCommand(spec, scenarios.Options{Seed: 7, Flavor: "spock", Image: "img", Nodes: spec.Nodes, Recovery: spec.Recovery, Duration: spec.Load,
			Settings: map[string]string{"spock.exception_logging": "all", "spock.exception_behaviour": "sub_disable", "search_path": "a, b"}})
		Expect(got).To(Equal("spockchaos run lagged-kill-recovery --seed 7 --flavor spock --image img" +
			" --set 'search_path=a, b' --set spock.exception_behaviour=sub_disable --set spock.exception_logging=all"))
	})

	declaring := func(flavors []string, settings map[string]string) *scenarios.Spec {
		return &scenarios.Spec{Name: "with-settings", Description: "x", Labels: []string{scenarios.LabelNightly}, Nodes: 3, Timeout: time.Minute,
			Load: time.Second, Workload: "ledger", Recovery: "auto", Checkers: []string{"convergence"}, Expect: "pass", Flavors: flavors, Settings: settings}
	}

	DescribeTable("a scenario's own settings, checked at registration",
		func(flavors []string, settings map[string]string, problem string) {
			err := scenarios.ValidateSpec(declaring(flavors, settings))
			if problem == "" {
				Expect(err).NotTo(HaveOccurred())
			} else {
				Expect(err).To(MatchError(ContainSubstring(problem)))
			}
		},
		Entry("a plain setting on every flavor", nil, map[string]string{"work_mem": "8MB"}, ""),
		Entry("spock's setting on spock only", []string{"spock"}, map[string]string{"spock.exception_behaviour": "sub_disable"}, ""),
		Entry("spock's setting on every flavor", nil, map[string]string{"spock.exception_behaviour": "sub_disable"}, "flavor pglogical knows pglogical.*"),
		Entry("a setting the harness needs otherwise", nil, map[string]string{"wal_level": "replica"}, "the harness needs wal_level=logical"),
		Entry("a name in capitals", nil, map[string]string{"Work_Mem": "8MB"}, "write the name in lower case"),
		Entry("an empty value", nil, map[string]string{"work_mem": ""}, "no value after ="),
	)

	It("take the user's value over the scenario's and record the merge as what runs", func() {
		s := declaring(nil, map[string]string{"work_mem": "4MB", "lock_timeout": "5s"})
		got, err := scenarios.Resolve(s, scenarios.Options{Seed: 1, Settings: map[string]string{"work_mem": "8MB"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(got.Settings).To(Equal(map[string]string{"work_mem": "8MB", "lock_timeout": "5s"}))
		none, err := scenarios.Resolve(declaring(nil, nil), scenarios.Options{Seed: 1})
		Expect(err).NotTo(HaveOccurred())
		Expect(none.Settings).To(BeNil(), "no settings: nothing recorded, as before")
	})

	It("refuse a user setting the flavor does not know, before anything starts", func() {
		_, err := scenarios.Resolve(spec, scenarios.Options{Seed: 1, Settings: map[string]string{"spock.exception_behaviour": "discard"}})
		Expect(err).To(MatchError(ContainSubstring("flavor pglogical knows pglogical.* and plain PostgreSQL settings only, not spock.*")))
	})
})
