package scenarios_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/reports"
	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
	"github.com/spockchaos/spockchaos/workload"
	"github.com/spockchaos/spockchaos/workload/history"
)

// gateSeed is fixed so that a gate failure replays with the seed the
// failure message prints; SPOCKCHAOS_SEED overrides it.
const gateSeed = 20261125

// The catalog, one spec per scenario, labelled with the scenario's labels:
// `ginkgo --label-filter=gate ./scenarios` is the CI gate.
var _ = Describe("the scenario catalog", func() {
	for _, spec := range scenarios.All() {
		labels := append([]string{"e2e", "scenario"}, spec.Labels...)
		It(spec.Name+" ends with verdict "+string(spec.Expect)+findingsNote(spec, "pglogical"), Label(labels...), func(ctx SpecContext) {
			if len(spec.Flavors) > 0 && !slices.Contains(spec.Flavors, "pglogical") {
				Skip(fmt.Sprintf("%s runs on flavor %v only", spec.Name, spec.Flavors))
			}
			seed := int64(gateSeed)
			if s := os.Getenv("SPOCKCHAOS_SEED"); s != "" {
				Expect(func() error { _, err := fmtSscan(s, &seed); return err }()).To(Succeed())
			}
			runAndCheck(ctx, spec, scenarios.Options{Seed: seed})
		}, SpecTimeout(spec.Timeout+spec.Load))
	}
})

// runAndCheck runs spec with opts and checks that it ends with the spec's
// expected verdict, for the right reasons (see the scenario-specific
// checks below), or with a FAIL that the known findings of the flavor
// (a proven defect of the system under test) explain from the servers'
// evidence, every failing checker of it (scenarios.Explain). It returns
// the outcome.
func runAndCheck(ctx SpecContext, spec *scenarios.Spec, opts scenarios.Options) *scenarios.Outcome {
	opts.OutDir, opts.Progress = artifactsDir(), GinkgoWriter
	replay := scenarios.ReplayCommand(spec, opts)
	out, err := scenarios.Run(ctx, spec, opts)
	Expect(err).NotTo(HaveOccurred(), "harness error (replay: %s)", replay)
	expect := spec.ExpectFor(opts.Flavor)
	if fs := spec.FindingsFor(opts.Flavor); out.Verdict != expect && out.Verdict == verify.Fail && len(fs) > 0 {
		ok, why := scenarios.Explain(fs, out.Dir, out.Run.Checkers)
		Expect(ok).To(BeTrue(), "%s FAILed, and not by its known findings %v: %s (replay: %s; report %s)\n%s",
			spec.Name, fs, why, replay, out.Dir, summaryOf(out.Dir))
		AddReportEntry("known finding", why)
		GinkgoWriter.Printf("%s FAILed by a known finding: %s\n", spec.Name, why)
		return out
	}
	Expect(out.Verdict).To(Equal(expect), "verdict of %s (replay: %s; report %s)\n%s",
		spec.Name, replay, out.Dir, summaryOf(out.Dir))
	if spec.WorkerErrorsFail {
		// This control fails for its own reason, whatever the rows did:
		// replication-health names each subscription whose apply worker
		// an error ended, with the server's error line.
		i := slices.IndexFunc(out.Run.Checkers, func(c verify.CheckResult) bool { return c.Name == scenarios.CheckReplicationHealth })
		Expect(i).To(BeNumerically(">=", 0), "no replication-health checker ran")
		health := out.Run.Checkers[i]
		GinkgoWriter.Printf("replication-health: %s\n", health.Summary)
		Expect(health.Verdict).To(Equal(verify.Fail), health.Summary)
		Expect(health.Summary).To(And(ContainSubstring("its apply worker ended on an error"), ContainSubstring("ERROR:")))
		return out
	}
	if expect == verify.Fail {
		// The control must fail for the right reason: divergent keys named.
		var conv *verify.CheckResult
		for i, c := range out.Run.Checkers {
			if c.Name == scenarios.CheckConvergence {
				conv = &out.Run.Checkers[i]
			}
		}
		Expect(conv).NotTo(BeNil())
		Expect(conv.Verdict).To(Equal(verify.Fail))
		Expect(reports.FirstKeys(*conv, 5)).NotTo(BeEmpty(), "the failing convergence check names no key")
		// ... and summarised first: every differing row in one class.
		classes := reports.DivergenceOf(out.Run.Checkers)
		Expect(classes).NotTo(BeEmpty(), "no divergence class")
		var rows int64
		for _, c := range classes {
			rows += c.Rows
			Expect(c.Examples).NotTo(BeEmpty(), c.Line)
			GinkgoWriter.Printf("divergence class: %s (e.g. %v)\n", c.Line, c.Examples)
			// ... each followed by its server evidence, searched on every
			// node lacking its rows (found or said as not found).
			ev := reports.EvidenceFor(c, out.Run.Evidence)
			for _, n := range c.AbsentOn {
				Expect(ev).To(ContainElement(HaveField("Node", n)), "no evidence searched on %s for %s", n, c.Line)
			}
			for _, l := range reports.EvidenceLines(ev) {
				GinkgoWriter.Printf("  %s\n", l)
			}
		}
		Expect(rows).To(BeNumerically("==", conv.Details.(*verify.ConvergenceReport).DifferingRows))
	}
	if spec.Name == "pause-then-kill" {
		// No lag in force: the keeper moves every recovery slot during
		// the load (the pause only holds them for its 2 s), and the
		// victim's recovery time is measured from its kill.
		k := out.Run.SlotKeeper
		Expect(k).NotTo(BeNil(), "no slot keeper report")
		Expect(k.Advances).To(BeNumerically(">", 0))
		Expect(k.Slots).To(HaveLen(spec.Nodes * (spec.Nodes - 1)))
		for _, sl := range k.Slots {
			Expect(sl.Moved.IsZero()).To(BeFalse(), "slot %s never moved (%s)", sl.Slot, sl.Why)
		}
		Expect(out.Run.RecoveryTimes).To(HaveLen(1))
		rt := out.Run.RecoveryTimes[0]
		Expect(rt.Node).To(Equal(out.Run.Failed[0]))
		Expect(rt.Level.IsZero()).To(BeFalse(), "survivors never level: %s", rt.Error)
		Expect(rt.Seconds).To(BeNumerically("~", rt.DetectSeconds+rt.RecoverSeconds, 0.001))
	}
	if spec.Name == "kill-mid-large-txn" {
		// The kill is sent from this host the moment COMMIT is on the
		// wire, with a 100 ms commit_delay asked for: it lands before
		// the commit is durable (info) or while the peers receive it
		// (ok; 2 runs of 3 here: another backend's group commit
		// flushed it first). Atomicity and indeterminate checks judge
		// the data either way.
		ops, err := history.Load(filepath.Join(out.Dir, "history.jsonl"))
		Expect(err).NotTo(HaveOccurred())
		var completions []history.Type
		for _, op := range ops {
			if op.F == workload.FLargeTxn && op.Type != history.Invoke {
				completions = append(completions, op.Type)
			}
		}
		Expect(completions).To(HaveLen(1), "the large transaction's completions")
		Expect(completions[0]).To(BeElementOf(history.Info, history.Ok))
		GinkgoWriter.Printf("large transaction ended %s\n", completions[0])
		Expect(out.Run.Faults).To(ContainElement(HaveField("InFlightAtKill", BeNumerically(">=", 1))))
	}
	if spec.Workload == "bank" && expect == verify.Pass {
		// The invariant was really judged: transfers ran and every
		// survivor's totals were read, not "not applicable".
		var bank *verify.CheckResult
		for i, c := range out.Run.Checkers {
			if c.Name == verify.BankCheckName {
				bank = &out.Run.Checkers[i]
			}
		}
		Expect(bank).NotTo(BeNil(), "no bank-invariant checker ran")
		Expect(bank.Details).To(HaveKeyWithValue("transfers", BeNumerically(">", 0)), bank.Summary)
	}
	if strings.HasPrefix(spec.Workload, "conflict") {
		// Last-update-wins judged the keys (not skipped) and agrees with
		// the expected verdict; a violation is named by key.
		var lww *verify.CheckResult
		for i, c := range out.Run.Checkers {
			if c.Name == verify.LWWCheckName {
				lww = &out.Run.Checkers[i]
			}
		}
		Expect(lww).NotTo(BeNil())
		GinkgoWriter.Printf("last-update-wins: %s\n", lww.Summary)
		Expect(lww.Verdict).To(Equal(expect), lww.Summary)
		if lww.Verdict == verify.Fail {
			Expect(reports.FirstKeys(*lww, 5)).To(ContainElement(HavePrefix("key=")))
		}
	}
	if spec.HasCheck(scenarios.CheckRecovered) {
		Expect(out.Run.Recovery).NotTo(BeNil())
		Expect(out.Run.Recovery.TransactionsRecovered).To(BeNumerically(">", 0))
	}
	return out
}

// findingsNote names the known findings of spec on flavor for a spec's
// title ("" when none).
func findingsNote(spec *scenarios.Spec, flavor string) string {
	fs := spec.FindingsFor(flavor)
	if len(fs) == 0 {
		return ""
	}
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Name
	}
	return " or FAILs by the known " + flavor + " findings " + strings.Join(names, ", ")
}

// artifactsDir is where a spec's runs go: SPOCKCHAOS_ARTIFACTS, or a
// temporary folder removed after the spec. With SPOCKCHAOS_KEEP_FAILED
// (`make test` sets it under its output folder), the runs of a failed
// spec are copied there first: a timing-dependent FAIL in CI keeps its
// server logs for whoever reads it.
func artifactsDir() string {
	if d := os.Getenv("SPOCKCHAOS_ARTIFACTS"); d != "" {
		return d
	}
	dir := filepath.Join(GinkgoT().TempDir(), "runs")
	if keep := os.Getenv("SPOCKCHAOS_KEEP_FAILED"); keep != "" {
		DeferCleanup(func() {
			if CurrentSpecReport().Failed() {
				keepRuns(dir, keep)
			}
		})
	}
	return dir
}

// keepRuns copies every run directory in dir into keep (one folder per
// run, named as in dir) and says where.
func keepRuns(dir, keep string) {
	runs, _ := os.ReadDir(dir)
	for _, r := range runs {
		if !r.IsDir() {
			continue // "latest", a link to one of them
		}
		dest := filepath.Join(keep, r.Name())
		if err := os.CopyFS(dest, os.DirFS(filepath.Join(dir, r.Name()))); err != nil {
			GinkgoWriter.Printf("keep the failed spec's run %s: %v\n", r.Name(), err)
			continue
		}
		GinkgoWriter.Printf("the failed spec's run is kept in %s\n", dest)
	}
}

func summaryOf(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "summary.md"))
	if err != nil {
		return "(no summary.md: " + err.Error() + ")"
	}
	return strings.TrimSpace(string(b))
}
