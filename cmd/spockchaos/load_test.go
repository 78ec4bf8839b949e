package main

import (
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/workload/history"
)

var _ = Describe("spockchaos load", func() {
	It("refuses to run without a cluster", func() {
		s := runCLI(30*time.Second, nil, "load", "--workload", "ledger")
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring("exactly one of --run RUN_ID or --dsn DSN"))
	})

	It("refuses an unknown workload", func() {
		s := runCLI(30*time.Second, nil, "load", "--workload", "nope", "--dsn", "postgres://x@127.0.0.1:1/x")
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring("--workload"))
	})

	It("records a valid history against a detached run", Label("e2e"), func(ctx SpecContext) {
		c, err := harness.Start(ctx, harness.Config{Nodes: 2, Detached: true})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(c.Remove(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
		out := filepath.Join(GinkgoT().TempDir(), "h.jsonl")
		s := runCLI(2*time.Minute, nil, "load", "--run", c.RunID, "--workload", "ledger", "--duration", "3s", "--seed", "9", "--out", out)
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		ops, err := history.Load(out)
		Expect(err).NotTo(HaveOccurred())
		oks := 0
		for _, op := range ops {
			if op.Type == history.Ok && op.F == "ledger-txn" {
				oks++
			}
		}
		Expect(oks).To(BeNumerically(">", 10))

		By("the same servers named by DSN: the schema, replication set and barrier go through a cluster handle on them")
		out = filepath.Join(GinkgoT().TempDir(), "h2.jsonl")
		s = runCLI(2*time.Minute, nil, "load", "--dsn", "n1="+c.Node("n1").DSN, "--dsn", "n2="+c.Node("n2").DSN,
			"--workload", "bank", "--duration", "3s", "--seed", "10", "--out", out)
		Expect(s.ExitCode()).To(Equal(0), string(s.Err.Contents()))
		ops, err = history.Load(out)
		Expect(err).NotTo(HaveOccurred())
		oks = 0
		for _, op := range ops {
			if op.Type == history.Ok {
				oks++
			}
		}
		Expect(oks).To(BeNumerically(">", 10))
	}, SpecTimeout(4*time.Minute))
})
