package main

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/reports"
	"github.com/spockchaos/spockchaos/verify"
)

// passingRunDir writes a run directory of a passing kill-without-recovery run.
func passingRunDir() string {
	dir, err := record.NewRunDir(GinkgoT().TempDir(), "kill-without-recovery", 7, time.Now())
	Expect(err).NotTo(HaveOccurred())
	run := &record.Run{Scenario: "kill-without-recovery", Seed: 7, Flavor: "pglogical",
		Config:   map[string]any{"nodes": 3, "flavor": "pglogical", "recovery": "none", "load": "4s", "clients_per_node": 2},
		Checkers: []verify.CheckResult{{Name: "convergence", Verdict: verify.Pass}}, Verdict: verify.Pass}
	Expect(reports.Write(dir, run, "")).To(Succeed())
	return dir
}

var _ = Describe("bad input to spockchaos shrink", func() {
	DescribeTable("gets one clear line on stderr and exit code 2, nothing run",
		func(want string, args func() []string) {
			s := runCLI(30*time.Second, nil, args()...)
			Expect(s.ExitCode()).To(Equal(2))
			stderr := strings.TrimSpace(string(s.Err.Contents()))
			Expect(strings.Split(stderr, "\n")).To(HaveLen(1), stderr)
			Expect(stderr).To(ContainSubstring(want))
			Expect(string(s.Out.Contents())).NotTo(ContainSubstring("attempt"))
		},
		Entry("no directory", "accepts 1 arg", func() []string { return []string{"shrink"} }),
		Entry("a directory without run.json", "repro", func() []string { return []string{"shrink", GinkgoT().TempDir()} }),
		Entry("a passing run", "not a failing run (verdict pass)", func() []string { return []string{"shrink", passingRunDir()} }),
		Entry("a negative budget", "must not be negative", func() []string { return []string{"shrink", passingRunDir(), "--budget", "-1"} }),
		Entry("a confirm count of 0", "--confirm must be at least 1, got 0", func() []string { return []string{"shrink", passingRunDir(), "--confirm", "0"} }),
		Entry("a load floor under a second", "load floor", func() []string { return []string{"shrink", passingRunDir(), "--load-floor", "500ms"} }),
	)

	It("documents its flags", func() {
		s := runCLI(30*time.Second, nil, "shrink", "--help")
		Expect(s.ExitCode()).To(Equal(0))
		for _, flag := range []string{"--budget", "--budget-time", "--out", "--load-floor", "--run-progress", "--confirm"} {
			Expect(string(s.Out.Contents())).To(ContainSubstring(flag))
		}
	})
})
