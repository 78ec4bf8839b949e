package main

import (
	"os/exec"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

var _ = Describe("server settings given with --set", Label("e2e"), Serial, func() {
	It("reach every node, are recorded in run.json and the replay line, and repro passes them again", func(ctx SpecContext) {
		s, out := startRun(nil, "run", "baseline", "--set", "work_mem=8MB")
		Eventually(s).WithTimeout(5*time.Minute).Should(gexec.Exit(0), "stderr:\n%s", s.Err.Contents())
		Expect(string(s.Out.Contents())).To(MatchRegexp(`replay: spockchaos run baseline --seed \d+ --set work_mem=8MB\n`))
		run, dir := storedRun(out)
		Expect(run.Settings).To(Equal(map[string]string{"work_mem": "8MB"}))
		Expect(run.Nodes).To(HaveLen(3))
		for _, n := range run.Nodes {
			// What SHOW work_mem gave on the node once it was up (the
			// default is 4MB: a setting that did not arrive fails here).
			Expect(n.Settings).To(Equal(map[string]string{"work_mem": "8MB"}), "node %s", n.Name)
		}

		again := GinkgoT().TempDir()
		r, err := gexec.Start(exec.Command(binary, "repro", dir, "--out", again), GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		Eventually(r).WithTimeout(5*time.Minute).Should(gexec.Exit(0), "stderr:\n%s", r.Err.Contents())
		replayed, _ := storedRun(again)
		Expect(replayed.Settings).To(Equal(map[string]string{"work_mem": "8MB"}))
		for _, n := range replayed.Nodes {
			Expect(n.Settings).To(Equal(map[string]string{"work_mem": "8MB"}), "replayed node %s", n.Name)
		}
	})

	It("a value the server rejects is one line naming the node and the setting, not a timeout", func(ctx SpecContext) {
		s, _ := startRun(nil, "run", "baseline", "--set", "work_mem=lots")
		Eventually(s).WithTimeout(2*time.Minute).Should(gexec.Exit(2), "stderr:\n%s", s.Err.Contents())
		Expect(string(s.Err.Contents())).To(MatchRegexp(`spockchaos: phase up: node n\d: the server exited \(code 1\) before it accepted connections: setting work_mem=lots: .*FATAL: +invalid value for parameter "work_mem": "lots"`))
	})

	It("a dotted setting the server only keeps as a placeholder (a misspelt name) is one line naming the node and the setting", func(ctx SpecContext) {
		s, _ := startRun(nil, "run", "baseline", "--set", "pglogical.conflict_resolutoin=first_update_wins")
		Eventually(s).WithTimeout(2*time.Minute).Should(gexec.Exit(2), "stderr:\n%s", s.Err.Contents())
		Expect(string(s.Err.Contents())).To(MatchRegexp(`spockchaos: phase up: node n\d: the server does not know setting pglogical.conflict_resolutoin=first_update_wins \(not in pg_settings`))
	})
})
