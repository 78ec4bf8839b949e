package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/spockchaos/spockchaos/harness"
)

// runCLI runs the built binary and waits for it to exit.
func runCLI(timeout time.Duration, env []string, args ...string) *gexec.Session {
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	s, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { s.Interrupt().Wait(time.Minute) })
	Eventually(s).WithTimeout(timeout).Should(gexec.Exit())
	return s
}

var _ = Describe("bad input to spockchaos up", func() {
	DescribeTable("gets one clear line on stderr and exit code 2",
		func(env []string, want string, args ...string) {
			s := runCLI(30*time.Second, env, args...)
			Expect(s.ExitCode()).To(Equal(2))
			stderr := strings.TrimSpace(string(s.Err.Contents()))
			Expect(strings.Split(stderr, "\n")).To(HaveLen(1), stderr)
			Expect(stderr).To(ContainSubstring(want))
		},
		Entry("too many nodes", nil, "--nodes must be between 2 and 9", "up", "--nodes", "12"),
		Entry("too few nodes", nil, "--nodes must be between 2 and 9", "up", "--nodes", "1"),
		Entry("an unknown flavor", nil, `unknown flavor "bdr"`, "up", "--flavor", "bdr"),
		Entry("spock without an image", nil, "--image", "up", "--flavor", "spock"),
		Entry("a schema file that does not exist", nil, "--schema", "up", "--schema", "/nonexistent/schema.sql"),
		Entry("no Docker engine", []string{"DOCKER_HOST=unix:///nonexistent/docker.sock"}, "no Docker engine reachable", "up"),
		Entry("an unknown command", nil, "unknown command", "frobnicate"),
		Entry("down without a run id", nil, "exactly one of RUN_ID or --all", "down"),
	)
})

var _ = Describe("spockchaos up", Label("e2e"), func() {
	It("with --detach --json prints exactly one object, leaves the cluster up, and down removes it", func(ctx SpecContext) {
		s := runCLI(3*time.Minute, nil, "up", "--nodes", "2", "--detach", "--json")
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		var out upOutput
		dec := json.NewDecoder(strings.NewReader(string(s.Out.Contents())))
		Expect(dec.Decode(&out)).To(Succeed())
		Expect(dec.More()).To(BeFalse(), "more than one JSON value on stdout")
		Expect(out.RunID).NotTo(BeEmpty())
		Expect(out.Nodes).To(HaveLen(2))
		Expect(out.Nodes[0].Name).To(Equal("n1"))
		Expect(out.Nodes[0].DSN).To(HavePrefix("postgres://postgres:"))
		Expect(runCount(ctx, out.RunID)).To(Equal(2))

		down := runCLI(time.Minute, nil, "down", out.RunID)
		Expect(down.ExitCode()).To(Equal(0))
		Expect(runCount(ctx, out.RunID)).To(Equal(-1))
	}, SpecTimeout(4*time.Minute))

	It("exits 2 on a schema that fails and leaves nothing running", func(ctx SpecContext) {
		before, err := harness.ListRuns(ctx)
		Expect(err).NotTo(HaveOccurred())
		schema := filepath.Join(GinkgoT().TempDir(), "bad.sql")
		Expect(os.WriteFile(schema, []byte("CREATE TABLE t (id int PRIMARY KEY, x no_such_type);"), 0o644)).To(Succeed())
		s := runCLI(3*time.Minute, nil, "up", "--nodes", "2", "--schema", schema)
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring("apply schema on n"))
		after, err := harness.ListRuns(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(after).To(HaveLen(len(before)), "a run was left behind")
	}, SpecTimeout(4*time.Minute))
})

// runCount is the number of containers of a run, or -1 when the run has
// neither containers nor a network.
func runCount(ctx SpecContext, runID string) int {
	runs, err := harness.ListRuns(ctx)
	Expect(err).NotTo(HaveOccurred())
	for _, r := range runs {
		if r.RunID == runID {
			return r.Containers
		}
	}
	return -1
}

var _ = Describe("spockchaos run --plan", func() {
	It("prints the same plan for the same seed, and another for another seed", func() {
		a := runCLI(30*time.Second, nil, "run", "lagged-kill-recovery", "--seed", "11", "--plan")
		b := runCLI(30*time.Second, nil, "run", "lagged-kill-recovery", "--seed", "11", "--plan")
		c := runCLI(30*time.Second, nil, "run", "lagged-kill-recovery", "--seed", "12", "--plan")
		Expect(a.ExitCode()).To(Equal(0))
		Expect(string(a.Out.Contents())).To(ContainSubstring("kill n"))
		Expect(a.Out.Contents()).To(Equal(b.Out.Contents()))
		Expect(a.Out.Contents()).NotTo(Equal(c.Out.Contents()))
	})

	It("refuses an unknown scenario with exit code 2", func() {
		s := runCLI(30*time.Second, nil, "run", "no-such-scenario")
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring(`unknown scenario "no-such-scenario"`))
	})
})
