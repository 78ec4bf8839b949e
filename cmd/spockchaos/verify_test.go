package main

import (
	"encoding/json"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/harness"
)

var _ = Describe("spockchaos verify", func() {
	It("needs two DSNs", func() {
		s := runCLI(30*time.Second, nil, "verify", "--dsn", "postgres://x@127.0.0.1:1/x")
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring("need at least two servers"))
	})

	It("refuses --run with --dsn, and a run id with no containers", func() {
		both := runCLI(30*time.Second, nil, "verify", "--run", "x", "--dsn", "postgres://x@127.0.0.1:1/x")
		Expect(both.ExitCode()).To(Equal(2))
		Expect(string(both.Err.Contents())).To(ContainSubstring("give --run or --dsn, not both"))
		none := runCLI(30*time.Second, nil, "verify", "--run", "no-such-run-20261126")
		Expect(none.ExitCode()).To(Equal(2))
		Expect(string(none.Err.Contents())).To(ContainSubstring("no containers labelled"))
	})

	It("exits 2 with one line when a server refuses", func() {
		s := runCLI(30*time.Second, nil, "verify", "--dsn", "postgres://x@127.0.0.1:1/x?connect_timeout=2", "--dsn", "postgres://x@127.0.0.1:2/x?connect_timeout=2")
		Expect(s.ExitCode()).To(Equal(2))
		Expect(string(s.Err.Contents())).To(MatchRegexp(`^spockchaos: [^\n]*\n$`))
	})

	It("exits 0 on identical servers and 1 with the differing key listed", Label("e2e"), func(ctx SpecContext) {
		c, err := harness.StartNodes(ctx, harness.Config{Nodes: 2})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(c.Remove(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
		for _, n := range c.Nodes {
			conn, err := n.Connect(ctx)
			Expect(err).NotTo(HaveOccurred())
			_, err = conn.Exec(ctx, "CREATE TABLE acct (id int PRIMARY KEY, note text); INSERT INTO acct SELECT g, 'x' || g FROM generate_series(1, 500) g")
			conn.Close(ctx)
			Expect(err).NotTo(HaveOccurred())
		}
		same := runCLI(time.Minute, nil, "verify", "--dsn", c.Nodes[0].DSN, "--dsn", c.Nodes[1].DSN)
		Expect(same.ExitCode()).To(Equal(0), string(same.Err.Contents()))

		conn, err := c.Nodes[1].Connect(ctx)
		Expect(err).NotTo(HaveOccurred())
		_, err = conn.Exec(ctx, "UPDATE acct SET note = '' WHERE id = 417")
		conn.Close(ctx)
		Expect(err).NotTo(HaveOccurred())
		diff := runCLI(time.Minute, nil, "verify", "--dsn", c.Nodes[0].DSN, "--dsn", c.Nodes[1].DSN)
		Expect(diff.ExitCode()).To(Equal(1))
		Expect(string(diff.Out.Contents())).To(ContainSubstring("417"))
		byRun := runCLI(time.Minute, nil, "verify", "--run", c.RunID)
		Expect(byRun.ExitCode()).To(Equal(1), string(byRun.Err.Contents()))
		Expect(string(byRun.Out.Contents())).To(ContainSubstring(`id="417"`))

		js := runCLI(time.Minute, nil, "verify", "--json", "--dsn", c.Nodes[0].DSN, "--dsn", c.Nodes[1].DSN)
		Expect(js.ExitCode()).To(Equal(1))
		var out map[string]any
		Expect(json.Unmarshal(js.Out.Contents(), &out)).To(Succeed())
		Expect(string(js.Out.Contents())).To(ContainSubstring("417"))
	}, SpecTimeout(3*time.Minute))
})
