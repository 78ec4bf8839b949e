package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/reports"
	"github.com/spockchaos/spockchaos/verify"
)

// engineLeftovers is what `docker ps -a` and `docker network ls` list with
// the run's label: the check a user would make by hand.
func engineLeftovers(ctx context.Context, runID string) []string {
	var out []string
	for _, args := range [][]string{
		{"ps", "-a", "-q", "--filter", "label=" + harness.LabelRun + "=" + runID},
		{"network", "ls", "-q", "--filter", "label=" + harness.LabelRun + "=" + runID},
	} {
		b, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "docker %v: %s", args, b)
		out = append(out, strings.Fields(string(b))...)
	}
	return out
}

var runIDLine = regexp.MustCompile(`run id (\S+) \(containers`)

// startRun starts `spockchaos run` into a fresh --out and returns the
// session and that folder; the run is removed by label however the spec
// ends.
func startRun(env []string, args ...string) (*gexec.Session, string) {
	out := GinkgoT().TempDir()
	cmd := exec.Command(binary, append(args, "--out", out)...)
	cmd.Env = append(os.Environ(), env...)
	s, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func(ctx context.Context) {
		s.Kill().Wait(10 * time.Second)
		if m := runIDLine.FindSubmatch(s.Err.Contents()); m != nil {
			_, _ = harness.RemoveRun(ctx, string(m[1]))
		}
	})
	return s, out
}

// storedRun reads the only run directory under out.
func storedRun(out string) (*record.Run, string) {
	dirs, err := filepath.Glob(filepath.Join(out, "*-s*"))
	Expect(err).NotTo(HaveOccurred())
	Expect(dirs).To(HaveLen(1), "run directories under %s", out)
	run, err := record.Load(dirs[0])
	Expect(err).NotTo(HaveOccurred())
	return run, dirs[0]
}

// expectStopped checks what a stopped run must leave: exit code, a run
// directory whose run.json says the phase and the cause, an unknown
// verdict in every file, and nothing in the engine.
func expectStopped(ctx context.Context, s *gexec.Session, out string, code int, phase, by string) {
	Eventually(s).WithTimeout(3*time.Minute).Should(gexec.Exit(), "the run did not end within 3 min of %s", by)
	Expect(s.ExitCode()).To(Equal(code), "stderr:\n%s", s.Err.Contents())
	Expect(string(s.Err.Contents())).NotTo(MatchRegexp(`panic|goroutine \d+`))
	run, dir := storedRun(out)
	Expect(run.Interrupted).NotTo(BeNil(), "run.json does not say the run was stopped")
	Expect(run.Interrupted.Phase).To(Equal(phase))
	Expect(run.Interrupted.By).To(Equal(by))
	Expect(run.EffectiveVerdict()).To(Equal(verify.Unknown))
	Expect(run.Error).To(ContainSubstring("in phase " + phase))
	Expect(run.RunID).NotTo(BeEmpty())
	var results struct {
		Verdict verify.Verdict `json:"verdict"`
	}
	b, err := os.ReadFile(filepath.Join(dir, reports.ResultsFile))
	Expect(err).NotTo(HaveOccurred())
	Expect(json.Unmarshal(b, &results)).To(Succeed())
	Expect(results.Verdict).To(Equal(verify.Unknown))
	for _, name := range []string{record.HistoryFile, reports.JUnitFile, reports.SummaryFile, reports.HTMLFile} {
		Expect(filepath.Join(dir, name)).To(BeARegularFile())
	}
	Expect(engineLeftovers(ctx, run.RunID)).To(BeEmpty(), "containers or networks of run %s left", run.RunID)
}

// The load is short (3 s) and the scenario small so that each spec costs
// one cluster for about half a minute; SPOCKCHAOS_HOLD_PHASE holds the run
// in the phase until the signal comes, so the signal lands in that phase
// every time. SIGTERM runs in the gate for every phase; SIGINT, the same
// code path with another cause, is labelled nightly.
var _ = Describe("a run stopped by a signal", Label("e2e"), Serial, func() {
	phases := []string{record.PhaseUp, record.PhaseLoad, record.PhaseFault, record.PhaseDetect,
		record.PhaseRecover, record.PhaseQuiesce, record.PhaseVerify, record.PhaseReport}
	var entries []any
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		for _, phase := range phases {
			decorations := []any{SpecTimeout(7 * time.Minute)}
			if sig == syscall.SIGINT {
				decorations = append(decorations, Label("nightly"))
			}
			entries = append(entries, Entry(harness.SignalName(sig)+" in phase "+phase, append(decorations, sig, phase)...))
		}
	}
	DescribeTable("ends unknown with the phase and the signal in run.json, exit 128+signal, the cluster removed",
		append([]any{func(ctx SpecContext, sig syscall.Signal, phase string) {
			s, out := startRun([]string{"SPOCKCHAOS_HOLD_PHASE=" + phase}, "run", "kill-mid-load", "--seed", "7", "--duration", "3s")
			Eventually(s.Err).WithTimeout(3*time.Minute).Should(gbytes.Say("holding in phase "+phase), "the run never reached phase %s", phase)
			s.Signal(sig)
			expectStopped(ctx, s, out, 128+int(sig), phase, harness.SignalName(sig))
		}}, entries...)...,
	)

	It("SIGTERM while the containers are being created leaves nothing either", func(ctx SpecContext) {
		s, out := startRun(nil, "run", "kill-mid-load", "--seed", "7", "--duration", "3s")
		Eventually(s.Err).WithTimeout(time.Minute).Should(gbytes.Say(`run id \S+`))
		time.Sleep(500 * time.Millisecond) // into harness.Start: network made, containers starting
		s.Signal(syscall.SIGTERM)
		expectStopped(ctx, s, out, 143, record.PhaseUp, "SIGTERM")
	}, SpecTimeout(5*time.Minute))

	It("a phase that outlasts the run's timeout ends unknown with that phase named, exit 2, the cluster removed", func(ctx SpecContext) {
		s, out := startRun([]string{"SPOCKCHAOS_HOLD_PHASE=" + record.PhaseLoad}, "run", "kill-mid-load", "--seed", "7", "--duration", "3s", "--timeout", "45s")
		expectStopped(ctx, s, out, 2, record.PhaseLoad, record.StoppedByTimeout)
		Expect(string(s.Err.Contents())).To(ContainSubstring("run timeout 45s exceeded in phase load"))
	}, SpecTimeout(5*time.Minute))
})

var _ = Describe("spockchaos killed with SIGKILL", Label("e2e"), Serial, func() {
	It("leaves containers that clean removes, networks included; clean leaves the run alone while its process lives", func(ctx SpecContext) {
		cmd := exec.Command(binary, "up", "--nodes", "2")
		s, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { s.Kill().Wait(10 * time.Second) })
		Eventually(s.Out).WithTimeout(3 * time.Minute).Should(gbytes.Say("press Ctrl-C to remove it"))
		m := regexp.MustCompile(`cluster (\S+) is ready`).FindSubmatch(s.Out.Contents())
		Expect(m).NotTo(BeNil())
		runID := string(m[1])
		DeferCleanup(func(ctx context.Context) { _, _ = harness.RemoveRun(ctx, runID) })

		alive := runCLI(time.Minute, nil, "clean", runID)
		Expect(alive.ExitCode()).To(Equal(2))
		Expect(string(alive.Err.Contents())).To(ContainSubstring("kept: its process"))
		Expect(engineLeftovers(ctx, runID)).To(HaveLen(3), "clean touched a live run")

		s.Kill() // SIGKILL: no cleanup of its own
		Eventually(s).WithTimeout(10 * time.Second).Should(gexec.Exit())
		Expect(engineLeftovers(ctx, runID)).To(HaveLen(3), "2 containers and a network left by the killed process")

		cleaned := runCLI(time.Minute, nil, "clean", runID)
		Expect(cleaned.ExitCode()).To(Equal(0), string(cleaned.Err.Contents()))
		Expect(string(cleaned.Out.Contents())).To(ContainSubstring("removed " + runID))
		Expect(engineLeftovers(ctx, runID)).To(BeEmpty())
	}, SpecTimeout(5*time.Minute))
})
