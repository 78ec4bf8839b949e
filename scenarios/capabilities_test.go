package scenarios_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/capability"
	"github.com/spockchaos/spockchaos/docker"
	"github.com/spockchaos/spockchaos/scenarios"
)

var _ = Describe("the capabilities a plan needs", func() {
	caps := func(needs []capability.Need) []capability.Name {
		var out []capability.Name
		for _, n := range needs {
			out = append(out, n.Cap)
		}
		return out
	}
	plan := func(steps ...scenarios.Step) scenarios.Plan { return scenarios.Plan{Steps: steps} }
	DescribeTable("per step kind and recovery",
		func(p scenarios.Plan, recovery string, want []capability.Name, step string) {
			needs := scenarios.Needs(p, scenarios.Options{Recovery: recovery})
			Expect(caps(needs)).To(Equal(want))
			if step != "" {
				Expect(needs[len(needs)-1].Step).To(Equal(step))
			}
		},
		Entry("no fault: a supported major and the flavor's extension", plan(), "auto",
			[]capability.Name{capability.SupportedMajor, capability.FlavorExtension}, "up"),
		Entry("network, process and kill faults need nothing inside the node",
			plan(scenarios.Step{Kind: scenarios.StepPartition, Node: "n2"}, scenarios.Step{Kind: scenarios.StepLinkLoss, Node: "n1", Peer: "n2"},
				scenarios.Step{Kind: scenarios.StepStopApply, Node: "n1", Peer: "n2"}, scenarios.Step{Kind: scenarios.StepKill, Node: "n3"}), "auto",
			[]capability.Name{capability.SupportedMajor, capability.FlavorExtension}, ""),
		Entry("a clock skew needs the loader for libfaketime",
			plan(scenarios.Step{At: 2 * time.Second, Kind: scenarios.StepClockSkew, Node: "n2", Amount: 30 * time.Second, Hold: 6 * time.Second}), "auto",
			[]capability.Name{capability.SupportedMajor, capability.FlavorExtension, capability.ClockSkew}, "t+2s clock-skew n2 by 30s for 6s"),
		Entry("--recovery spock needs Spock's API at the first kill only",
			plan(scenarios.Step{At: time.Second, Kind: scenarios.StepKill, Node: "n3"}, scenarios.Step{At: 3 * time.Second, Kind: scenarios.StepKill, Node: "n2"}), "spock",
			[]capability.Name{capability.SupportedMajor, capability.FlavorExtension, capability.SpockRecoveryAPI}, "t+1s kill n3 (recover)"),
		Entry("--recovery spock without a kill needs no API",
			plan(scenarios.Step{Kind: scenarios.StepPause, Node: "n1"}), "spock",
			[]capability.Name{capability.SupportedMajor, capability.FlavorExtension}, ""),
	)
})

var _ = Describe("refusing a plan the image cannot carry out", func() {
	needs := []capability.Need{{Step: "up", Cap: capability.SupportedMajor}, {Step: "t+2s clock-skew n2 by 30s for 6s", Cap: capability.ClockSkew}}
	DescribeTable("the first need known to be missing, in one line",
		func(have capability.Have, want string) {
			err := capability.Refusal(needs, have, "img:1")
			if want == "" {
				Expect(err).NotTo(HaveOccurred())
				return
			}
			Expect(err).To(MatchError(want))
			var ref *capability.Refused
			Expect(err).To(BeAssignableToTypeOf(ref))
		},
		Entry("everything known and there", capability.Have{capability.SupportedMajor: capability.Yes("17"), capability.ClockSkew: capability.Yes("glibc")}, ""),
		Entry("unknown answers pass", capability.Have{}, ""),
		Entry("no loader", capability.Have{capability.SupportedMajor: capability.Yes("17"), capability.ClockSkew: capability.No("musl has no glibc loader")},
			`step "t+2s clock-skew n2 by 30s for 6s" needs capability clock-skew, which image img:1 lacks: musl has no glibc loader`),
		Entry("an unsupported major first", capability.Have{capability.SupportedMajor: capability.No("PostgreSQL 14 is not supported"), capability.ClockSkew: capability.No("x")},
			`step "up" needs capability supported-major, which image img:1 lacks: PostgreSQL 14 is not supported`),
	)

	It("knows the recipe's images without starting anything", func() {
		have := capability.FromImage("pglogical", docker.ImageFor(15), nil)
		Expect(have[capability.ClockSkew].OK).To(BeTrue())
		Expect(have[capability.FlavorExtension].OK).To(BeTrue())
		Expect(have[capability.SpockRecoveryAPI]).To(Equal(capability.No("the recipe's image has no Spock")))
		Expect(capability.FromImage("spock", docker.ImageFor(17), nil)[capability.FlavorExtension].OK).To(BeFalse())
	})
	It("reads an unsupported major from an image's environment", func() {
		have := capability.FromImage("spock", "private:14", []string{"PG_MAJOR=14"})
		Expect(have[capability.SupportedMajor].Known).To(BeTrue())
		Expect(have[capability.SupportedMajor].OK).To(BeFalse())
		Expect(have[capability.ClockSkew].Known).To(BeFalse())
	})
	It("names the server's user from /proc and /etc/passwd", func() {
		Expect(capability.UserOf("Name:\tpostgres\nUid:\t26\t26\t26\t26\n", "root:x:0:0::/root:/bin/sh\npostgres:x:26:26::/var/lib/pgsql:/bin/bash\n")).To(Equal("uid 26 (postgres)"))
		Expect(capability.UserOf("Uid:\t999\t999\t999\t999\n", "")).To(Equal("uid 999"))
		Expect(capability.UserOf("", "")).To(HavePrefix("unknown"))
	})
})
