package harness_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
)

var _ = Describe("user server settings", func() {
	DescribeTable("parsing NAME=VALUE",
		func(arg, name, value, problem string) {
			n, v, err := harness.ParseSetting(arg)
			if problem != "" {
				Expect(err).To(MatchError(ContainSubstring(problem)))
				return
			}
			Expect(err).NotTo(HaveOccurred())
			Expect([]string{n, v}).To(Equal([]string{name, value}))
		},
		Entry("a plain setting", "work_mem=8MB", "work_mem", "8MB", ""),
		Entry("a dotted one", "spock.exception_behaviour=sub_disable", "spock.exception_behaviour", "sub_disable", ""),
		Entry("the name folded to lower case", "Work_Mem=8MB", "work_mem", "8MB", ""),
		Entry("a value holding =", "application_name=a=b", "application_name", "a=b", ""),
		Entry("a value with blanks", "search_path=a, b", "search_path", "a, b", ""),
		Entry("no =", "work_mem", "", "", "want NAME=VALUE"),
		Entry("no value", "work_mem=", "", "", "no value after ="),
		Entry("no name", "=8MB", "", "", "is not a server setting name"),
		Entry("a name with a dash", "work-mem=8MB", "", "", "is not a server setting name"),
		Entry("a name starting with a digit", "1x=2", "", "", "is not a server setting name"),
		Entry("an empty word between dots", "spock..x=1", "", "", "is not a server setting name"),
		Entry("a trailing dot", "spock.=1", "", "", "is not a server setting name"),
		Entry("a newline in the value", "work_mem=8MB\n-c x=1", "", "", "control character"),
	)

	It("gathers repeated settings and refuses one name with two values", func() {
		got, err := harness.ParseSettings([]string{"work_mem=8MB", "spock.exception_logging=all", "work_mem=8MB"})
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal(map[string]string{"work_mem": "8MB", "spock.exception_logging": "all"}))
		_, err = harness.ParseSettings([]string{"work_mem=8MB", "WORK_MEM=16MB"})
		Expect(err).To(MatchError("setting work_mem given twice (8MB and 16MB)"))
		none, err := harness.ParseSettings(nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(none).To(BeNil())
	})

	DescribeTable("which settings a flavor's server knows",
		func(flavor, name, problem string) {
			err := harness.FlavorAcceptsSetting(flavor, name)
			if problem == "" {
				Expect(err).NotTo(HaveOccurred())
			} else {
				Expect(err).To(MatchError(ContainSubstring(problem)))
			}
		},
		Entry("plain on pglogical", "pglogical", "work_mem", ""),
		Entry("plain on spock", "spock", "lock_timeout", ""),
		Entry("pglogical's own on pglogical", "pglogical", "pglogical.conflict_log_level", ""),
		Entry("spock's own on spock", "spock", "spock.exception_behaviour", ""),
		Entry("spock's on pglogical", "pglogical", "spock.exception_behaviour", "flavor pglogical knows pglogical.* and plain PostgreSQL settings only, not spock.*"),
		Entry("pglogical's on spock", "spock", "pglogical.conflict_resolution", "flavor spock knows spock.* and plain PostgreSQL settings only, not pglogical.*"),
		Entry("another extension's", "spock", "auto_explain.log_min_duration", "not auto_explain.*"),
		Entry("a dotted one on an unknown flavor", "plain", "spock.x", "flavor plain takes plain PostgreSQL settings only"),
	)

	DescribeTable("settings the harness passes itself",
		func(flavor string, user map[string]string, problem string) {
			f, err := harness.LookupFlavor(flavor)
			Expect(err).NotTo(HaveOccurred())
			err = harness.CheckSettings(f, 3, user)
			if problem == "" {
				Expect(err).NotTo(HaveOccurred())
			} else {
				Expect(err).To(MatchError(problem))
			}
		},
		Entry("none", "pglogical", nil, ""),
		Entry("one the harness does not set", "pglogical", map[string]string{"work_mem": "8MB"}, ""),
		Entry("wal_level equal to the harness's", "spock", map[string]string{"wal_level": "logical"}, ""),
		Entry("wal_level otherwise", "spock", map[string]string{"wal_level": "replica"},
			"setting wal_level=replica: the harness needs wal_level=logical on flavor spock"),
		Entry("shared_preload_libraries otherwise", "pglogical", map[string]string{"shared_preload_libraries": "pglogical,auto_explain"},
			"setting shared_preload_libraries=pglogical,auto_explain: the harness needs shared_preload_libraries=pglogical on flavor pglogical"),
		Entry("track_commit_timestamp off", "spock", map[string]string{"track_commit_timestamp": "off"},
			"setting track_commit_timestamp=off: the harness needs track_commit_timestamp=on on flavor spock"),
		Entry("a sizing the harness derives from the node count", "pglogical", map[string]string{"max_wal_senders": "4"},
			"setting max_wal_senders=4: the harness needs max_wal_senders=16 on flavor pglogical"),
		Entry("a list the harness sets at run time", "spock", map[string]string{"output_plugin_libraries": "pgoutput"},
			"setting output_plugin_libraries: the harness sets it at run time on flavor spock (to hold pgoutput, test_decoding, spock_output)"),
		Entry("a flavor's setting the other flavor lacks, first in name order", "pglogical", map[string]string{"spock.exception_behaviour": "discard", "wal_level": "minimal"},
			"setting spock.exception_behaviour: flavor pglogical knows pglogical.* and plain PostgreSQL settings only, not spock.*"),
	)

	It("merges the user's settings over the flavor's and formats them sorted", func() {
		merged := harness.MergeSettings(map[string]string{"wal_level": "logical"}, map[string]string{"work_mem": "8MB"})
		Expect(merged).To(Equal(map[string]string{"wal_level": "logical", "work_mem": "8MB"}))
		Expect(harness.FormatSettings(merged)).To(Equal([]string{"wal_level=logical", "work_mem=8MB"}))
	})

	DescribeTable("the server log line about a setting",
		func(log, name, want string) { Expect(harness.SettingLogLine(log, name)).To(Equal(want)) },
		Entry("a bad value", "LOG:  starting\n2026-12-06 FATAL:  invalid value for parameter \"work_mem\": \"lots\"\n", "work_mem",
			`2026-12-06 FATAL:  invalid value for parameter "work_mem": "lots"`),
		Entry("a reserved prefix", "WARNING:  invalid configuration parameter name \"spock.nonsense\", removing it\n", "spock.nonsense",
			`WARNING:  invalid configuration parameter name "spock.nonsense", removing it`),
		Entry("another setting's line", "FATAL:  invalid value for parameter \"work_mem\": \"x\"\n", "lock_timeout", ""),
	)

	DescribeTable("the last lines of a server log, for a node that never came up",
		func(log string, n int, want string) { Expect(harness.LogTail(log, n)).To(Equal(want)) },
		Entry("more lines than asked: the last ones, blank lines skipped", "a\nb\n\nc\nd\n", 2, "c | d"),
		Entry("fewer lines than asked", "only\n", 5, "only"),
		Entry("an empty log", "\n \n", 5, ""),
	)
})
