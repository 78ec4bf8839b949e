package reports_test

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/reports"
	"github.com/spockchaos/spockchaos/verify"
)

// The JUnit shape as a CI system reads it, declared independently of the
// package's own types so the test cannot agree with a wrong encoder.
type ciSuites struct {
	XMLName xml.Name `xml:"testsuites"`
	Suites  []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Cases    []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
			} `xml:"error"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

var _ = Describe("the run directory", func() {
	var (
		parent, dir string
		run         *record.Run
	)
	BeforeEach(func() {
		parent = GinkgoT().TempDir()
		dir, run = writeSyntheticRun(parent)
	})

	It("is named <utc-time>-<scenario>-s<seed> and linked as latest", func() {
		Expect(filepath.Base(dir)).To(Equal("20261125T120000Z-lagged-kill-recovery-s7"))
		target, err := os.Readlink(filepath.Join(parent, record.LatestLink))
		Expect(err).NotTo(HaveOccurred())
		Expect(target).To(Equal(filepath.Base(dir)))

		second, err := record.NewRunDir(parent, "other", 8, t0.Add(time.Minute))
		Expect(err).NotTo(HaveOccurred())
		Expect(record.LinkLatest(second)).To(Succeed())
		target, err = os.Readlink(filepath.Join(parent, record.LatestLink))
		Expect(err).NotTo(HaveOccurred())
		Expect(target).To(Equal(filepath.Base(second)))

		_, err = record.NewRunDir(parent, run.Scenario, run.Seed, t0)
		Expect(err).To(HaveOccurred(), "two runs must never share a directory")
	})

	It("holds every file of DESIGN section 7, node artifacts included", func() {
		for _, name := range []string{"run.json", "history.jsonl", "observation.json", "results.json", "junit.xml", "summary.md", "report.html",
			"nodes/n1/server.log", "nodes/n2/slots-before-fault.json", "nodes/n2/origins-before-fault.json"} {
			Expect(filepath.Join(dir, name)).To(BeARegularFile())
		}
		slots, err := os.ReadFile(filepath.Join(dir, "nodes/n2/slots-before-fault.json"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(slots)).To(ContainSubstring("spockchaos_postgres_n2_n1"))
		stored, err := record.Load(dir)
		Expect(err).NotTo(HaveOccurred())
		Expect(stored.Nodes[0].Files).To(ContainElement("nodes/n1/server.log"))
		Expect(stored.Versions.Go).To(HavePrefix("go"))
		Expect(stored.Versions.Spockchaos).NotTo(BeEmpty())
		Expect(stored.Versions.PostgreSQL).To(HaveKeyWithValue("n3", "17.12"), "taken from n3's captured state")
		Expect(stored.Nodes[2].ServerVersion).To(Equal("17.12"))
	})

	It("writes results.json with the fields of DESIGN section 7", func() {
		b, err := os.ReadFile(filepath.Join(dir, "results.json"))
		Expect(err).NotTo(HaveOccurred())
		var res map[string]any
		Expect(json.Unmarshal(b, &res)).To(Succeed())
		Expect(res).To(HaveKeyWithValue("scenario", "lagged-kill-recovery"))
		Expect(res).To(HaveKeyWithValue("seed", BeNumerically("==", 7)))
		Expect(res).To(HaveKeyWithValue("verdict", "fail"))
		Expect(res["checkers"]).To(ContainElement(HaveKeyWithValue("name", "convergence")))
		Expect(res["recovery"]).To(And(
			HaveKeyWithValue("strategy", "reference"),
			HaveKeyWithValue("transactions_recovered", BeNumerically("==", 42)),
			HaveKeyWithValue("nothing_to_recover", false),
			HaveKeyWithValue("per_pair", ContainElement(And(HaveKeyWithValue("source", "n2"), HaveKeyWithValue("target", "n3"), HaveKeyWithValue("transactions", BeNumerically("==", 42)))))))
		Expect(res["faults"]).To(ContainElement(And(HaveKeyWithValue("kind", "kill"), HaveKeyWithValue("node", "n1"), HaveKeyWithValue("in_flight_at_kill", BeNumerically("==", 1)))))
		Expect(res["phases"]).To(HaveLen(8))
		Expect(res["phases"]).To(ContainElement(And(HaveKeyWithValue("name", "up"), HaveKey("start"), HaveKey("end"))))
		Expect(res).To(HaveKeyWithValue("replay", "spockchaos run lagged-kill-recovery --seed 7"))
	})

	It("writes junit.xml in the testsuites/testsuite/testcase/failure shape, naming the first differing key", func() {
		b, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
		Expect(err).NotTo(HaveOccurred())
		var suites ciSuites
		Expect(xml.Unmarshal(b, &suites)).To(Succeed())
		Expect(suites.Suites).To(HaveLen(1))
		s := suites.Suites[0]
		Expect(s.Tests).To(Equal(3), "one testcase per checker plus recovery")
		Expect(s.Failures).To(Equal(1))
		names := []string{}
		for _, c := range s.Cases {
			names = append(names, c.Name)
			Expect(c.Classname).To(Equal("spockchaos.lagged-kill-recovery"))
		}
		Expect(names).To(Equal([]string{"convergence", "durability", "recovery"}))
		Expect(s.Cases[0].Failure).NotTo(BeNil())
		Expect(s.Cases[0].Failure.Message).To(ContainSubstring("public.ledger"))
		Expect(s.Cases[0].Failure.Message).To(ContainSubstring("n1-4900"))
		Expect(s.Cases[1].Failure).To(BeNil())
		Expect(s.Cases[2].Failure).To(BeNil())
	})

	It("reports an unknown checker as an error, a recovery error as a failure, and no recovery as skipped", func() {
		run.Checkers[1].Verdict = "unknown"
		run.Recovery.Errors = []string{"clone slot on n2: statement timeout"}
		suites := reports.JUnitOf(run)
		Expect(suites.Errors).To(Equal(1))
		Expect(suites.Failures).To(Equal(2))
		run.Recovery = nil
		cases := reports.JUnitOf(run).Suites[0].Cases
		Expect(cases[len(cases)-1].Skipped).NotTo(BeNil())
	})

	It("writes a short summary.md with verdict, seed, replay, faults, recovery and the checker table", func() {
		b, err := os.ReadFile(filepath.Join(dir, "summary.md"))
		Expect(err).NotTo(HaveOccurred())
		md := string(b)
		Expect(md).To(ContainSubstring("FAIL"))
		Expect(md).To(ContainSubstring("seed: `7`"))
		Expect(md).To(ContainSubstring("`spockchaos run lagged-kill-recovery --seed 7`"))
		Expect(md).To(ContainSubstring("kill on n1"))
		Expect(md).To(ContainSubstring("42 transactions"))
		Expect(md).To(ContainSubstring("| convergence | ❌ fail |"))
		Expect(strings.Count(md, "\n")).To(BeNumerically("<", 30))
	})

	It("re-renders the same results from run.json and history.jsonl alone", func() {
		before, err := os.ReadFile(filepath.Join(dir, "results.json"))
		Expect(err).NotTo(HaveOccurred())
		for _, name := range []string{"results.json", "junit.xml", "summary.md", "report.html"} {
			Expect(os.Remove(filepath.Join(dir, name))).To(Succeed())
		}
		_, err = reports.Rerender(dir)
		Expect(err).NotTo(HaveOccurred())
		after, err := os.ReadFile(filepath.Join(dir, "results.json"))
		Expect(err).NotTo(HaveOccurred())
		Expect(after).To(MatchJSON(before))
		for _, name := range []string{"junit.xml", "summary.md", "report.html"} {
			Expect(filepath.Join(dir, name)).To(BeARegularFile())
		}
	})

	It("never passes a run that hit a harness error", func() {
		run.Checkers = run.Checkers[1:] // only the passing one
		Expect(run.EffectiveVerdict()).To(BeEquivalentTo("pass"))
		run.Error = "recover: timed out after 2m waiting for n3"
		Expect(run.EffectiveVerdict()).To(BeEquivalentTo("unknown"))
		run.Checkers = nil
		run.Error = ""
		Expect(run.EffectiveVerdict()).To(BeEquivalentTo("unknown"), "no checker is not a pass")
	})
})

var _ = Describe("a run that died early", func() {
	It("still gets every file, with verdict unknown and the harness error shown", func() {
		parent := GinkgoT().TempDir()
		dir, err := record.NewRunDir(parent, "kill-one", 1, t0)
		Expect(err).NotTo(HaveOccurred())
		run := &record.Run{Scenario: "kill-one", Seed: 1, Error: "up: start n2: image spockchaos-node:pg17-x not found",
			Phases: []record.Phase{{Name: record.PhaseUp, Start: t0, Error: "image not found"}}}
		Expect(reports.Write(dir, run, "")).To(Succeed())
		page, err := os.ReadFile(filepath.Join(dir, "report.html"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(page)).To(ContainSubstring(`data-verdict="unknown"`))
		Expect(string(page)).To(ContainSubstring("image spockchaos-node:pg17-x not found"))
		var suites ciSuites
		b, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(xml.Unmarshal(b, &suites)).To(Succeed())
		Expect(suites.Suites[0].Cases[0].Name).To(Equal("harness"))
		Expect(suites.Suites[0].Cases[0].Error).NotTo(BeNil())
		res, err := os.ReadFile(filepath.Join(dir, "results.json"))
		Expect(err).NotTo(HaveOccurred())
		Expect(res).To(ContainSubstring(`"verdict": "unknown"`))
		Expect(res).To(ContainSubstring(`"checkers": []`))
	})
})

var _ = Describe("phase timing", func() {
	It("records each phase's start, end and the error that stopped it", func() {
		run := &record.Run{}
		endUp := run.StartPhase(record.PhaseUp)
		endUp(nil)
		endLoad := run.StartPhase(record.PhaseLoad)
		endLoad(errors.New("n2: connection refused"))
		Expect(run.Phases).To(HaveLen(2))
		Expect(run.Phases[0].End).NotTo(BeTemporally("<", run.Phases[0].Start))
		Expect(run.Phases[0].Error).To(BeEmpty())
		Expect(run.Phases[1].Name).To(Equal("load"))
		Expect(run.Phases[1].Error).To(Equal("n2: connection refused"))
	})
})

var _ = Describe("a checker that did not apply", func() {
	write := func(checkers []verify.CheckResult) (string, *record.Run) {
		parent := GinkgoT().TempDir()
		dir, err := record.NewRunDir(parent, "baseline", 3, t0)
		Expect(err).NotTo(HaveOccurred())
		run := &record.Run{Scenario: "baseline", Seed: 3, Checkers: checkers,
			Phases: []record.Phase{{Name: record.PhaseUp, Start: t0, End: t0.Add(time.Second)}}}
		Expect(reports.Write(dir, run, "")).To(Succeed())
		return dir, run
	}
	read := func(dir, name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		Expect(err).NotTo(HaveOccurred())
		return string(b)
	}
	skipped := verify.CheckResult{Name: "bank-invariant", Verdict: verify.Skipped, Summary: "not applicable: no bank-init or transfer ops"}

	It("is skipped, not passed, in results.json, summary.md, report.html and junit.xml (a skipped testcase)", func() {
		dir, _ := write([]verify.CheckResult{{Name: "convergence", Verdict: verify.Pass, Summary: "3 tables identical"}, skipped})
		Expect(read(dir, "results.json")).To(ContainSubstring(`"verdict": "skipped"`))
		Expect(read(dir, "results.json")).To(ContainSubstring(`"verdict": "pass"`))
		Expect(read(dir, "summary.md")).To(ContainSubstring("| bank-invariant | ⏭️ skipped | not applicable: no bank-init or transfer ops |"))
		Expect(read(dir, "report.html")).To(ContainSubstring(`<span class="verdict skipped">skipped</span>`))
		var suites ciSuites
		Expect(xml.Unmarshal([]byte(read(dir, "junit.xml")), &suites)).To(Succeed())
		var found bool
		for _, c := range suites.Suites[0].Cases {
			if c.Name == "bank-invariant" {
				found = true
				Expect(c.Skipped).NotTo(BeNil())
				Expect(c.Skipped.Message).To(ContainSubstring("not applicable"))
				Expect(c.Failure).To(BeNil())
				Expect(c.Error).To(BeNil())
			}
		}
		Expect(found).To(BeTrue())
		Expect(read(dir, "junit.xml")).To(ContainSubstring(`skipped="2"`), "the checker and the absent recovery step")
	})

	It("makes a run whose every checker was skipped unknown, never pass", func() {
		dir, run := write([]verify.CheckResult{skipped, {Name: "hotkey-convergence", Verdict: verify.Skipped, Summary: "not applicable: no hot-update ops"}})
		Expect(run.EffectiveVerdict()).To(Equal(verify.Unknown))
		Expect(read(dir, "results.json")).To(ContainSubstring(`"verdict": "unknown"`))
		Expect(read(dir, "summary.md")).To(ContainSubstring("UNKNOWN"))
	})
})

var _ = Describe("divergence", func() {
	It("is summarised in classes before the rows are listed, in summary.md, report.html and results.json", func() {
		dir, _ := writeSyntheticRun(GinkgoT().TempDir())
		read := func(name string) string {
			b, err := os.ReadFile(filepath.Join(dir, name))
			Expect(err).NotTo(HaveOccurred())
			return string(b)
		}
		line := "public.ledger: 1 row of origin n1, committed 12:00:04.90, on n2 but not on n3"
		md := read("summary.md")
		Expect(md).To(ContainSubstring("**Divergence**: 1 differing row in 1 class"))
		Expect(md).To(ContainSubstring("- " + line + " (e.g. (n1-4900,1))"))
		Expect(strings.Index(md, line)).To(BeNumerically("<", strings.Index(md, "convergence: first keys")))
		page := read("report.html")
		Expect(page).To(ContainSubstring(`id="divergence-table"`))
		Expect(page).To(ContainSubstring(line))
		Expect(strings.Index(page, `id="divergence-table"`)).To(BeNumerically("<", strings.Index(page, `id="diff-table"`)))
		res := read("results.json")
		Expect(strings.Index(res, `"divergence"`)).To(BeNumerically(">", 0))
		Expect(strings.Index(res, `"divergence"`)).To(BeNumerically("<", strings.Index(res, `"checkers"`)))
		var parsed struct {
			Divergence []verify.DivergenceClass `json:"divergence"`
		}
		Expect(json.Unmarshal([]byte(res), &parsed)).To(Succeed())
		Expect(parsed.Divergence).To(HaveLen(1))
		Expect(parsed.Divergence[0].Rows).To(BeEquivalentTo(1))
		Expect(parsed.Divergence[0].Examples).To(Equal([]string{"(n1-4900,1)"}))
	})

	It("puts each class's server evidence right under it, or says none was found; a run that searched nothing says nothing", func() {
		line := "public.ledger: 1 row of origin n1, committed 12:00:04.90, on n2 but not on n3"
		discard := "2026-11-25 12:00:05.100 UTC [81] LOG:  SPOCK sub_n3_n1: Transaction discarded in TRANSDISCARD mode at LSN 0/2B97D60"
		run := syntheticRun()
		run.Evidence = []record.ClassEvidence{{Class: line, Node: "n3", Lines: []string{discard, "spock.exception_log: n3: sub_n3_n1 (origin n1) remote xid 7"}, More: 2},
			{Class: line, Node: "n4"}, {Class: "another class", Node: "n2", Lines: []string{"not this class's"}}}
		dir, err := record.NewRunDir(GinkgoT().TempDir(), run.Scenario, run.Seed, t0)
		Expect(err).NotTo(HaveOccurred())
		Expect(reports.Write(dir, run, "")).To(Succeed())
		read := func(name string) string {
			b, err := os.ReadFile(filepath.Join(dir, name))
			Expect(err).NotTo(HaveOccurred())
			return string(b)
		}
		md := read("summary.md")
		Expect(md).To(ContainSubstring("- " + line + " (e.g. (n1-4900,1))\n" +
			"  - evidence from n3's log: " + strings.Join(strings.Fields(discard), " ") + "\n" +
			"  - evidence from n3's spock.exception_log: n3: sub_n3_n1 (origin n1) remote xid 7\n" +
			"  - … and 2 more from n3 (nodes/n3/server.log)\n" +
			"  - n4: no server evidence found\n"))
		Expect(md).NotTo(ContainSubstring("not this class's"))
		page := read("report.html")
		Expect(page).To(ContainSubstring(`<li>` + line + `<ul class="evidence"><li><code>evidence from n3&#39;s log: ` + discard + `</code></li>`))
		Expect(page).To(ContainSubstring("n4: no server evidence found"))
		var parsed struct {
			Evidence []record.ClassEvidence `json:"evidence"`
		}
		Expect(json.Unmarshal([]byte(read("results.json")), &parsed)).To(Succeed())
		Expect(parsed.Evidence).To(Equal(run.Evidence))
		back, err := record.Load(dir)
		Expect(err).NotTo(HaveOccurred())
		Expect(back.Evidence).To(Equal(run.Evidence), "run.json keeps it for report DIR")

		plain, _ := writeSyntheticRun(GinkgoT().TempDir())
		b, err := os.ReadFile(filepath.Join(plain, "summary.md"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(b)).NotTo(ContainSubstring("evidence"))
		b, err = os.ReadFile(filepath.Join(plain, "results.json"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(b)).NotTo(ContainSubstring(`"evidence"`))
	})

	It("does not list the classes among the differing rows", func() {
		rows := reports.DiffRowsOf(syntheticRun().Checkers)
		Expect(rows).To(HaveLen(1))
		Expect(rows[0].Key).To(Equal("public.ledger (n1-4900,1)"))
	})
})
