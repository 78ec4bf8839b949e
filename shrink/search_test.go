package shrink_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/shrink"
	"github.com/spockchaos/spockchaos/verify"
)

// fake is a Runner whose verdict is decided by a function of the
// candidate; it records every candidate it ran and advances a fake clock
// by a minute per run.
type fake struct {
	decide func(c shrink.Candidate) (shrink.Outcome, error)
	ran    []shrink.Candidate
	now    time.Time
}

func (f *fake) Run(_ context.Context, c shrink.Candidate) (shrink.Outcome, error) {
	f.ran = append(f.ran, c)
	f.now = f.now.Add(time.Minute)
	out, err := f.decide(c)
	if out.Dir == "" {
		out.Dir = fmt.Sprintf("reports/run-%d", len(f.ran))
	}
	return out, err
}

func (f *fake) clock() time.Time { return f.now }

var (
	failConvergence = shrink.Outcome{Verdict: verify.Fail, Failing: []string{"convergence"}}
	passing         = shrink.Outcome{Verdict: verify.Pass}
)

// failsWhen fails convergence when pred holds, else passes.
func failsWhen(pred func(c shrink.Candidate) bool) func(shrink.Candidate) (shrink.Outcome, error) {
	return func(c shrink.Candidate) (shrink.Outcome, error) {
		if pred(c) {
			return failConvergence, nil
		}
		return passing, nil
	}
}

func kinds(steps []scenarios.Step) []string {
	var out []string
	for _, s := range steps {
		out = append(out, s.Kind)
	}
	return out
}

func hasKinds(c shrink.Candidate, want ...string) bool {
	for _, k := range want {
		if !slices.Contains(kinds(c.Steps), k) {
			return false
		}
	}
	return true
}

// six steps: the lag and the kill among four others.
var sixSteps = []scenarios.Step{
	{At: 1 * time.Second, Kind: scenarios.StepPause, Node: "n2", Hold: time.Second},
	{At: 2 * time.Second, Kind: scenarios.StepLag, Node: "n1", Peer: "n3"},
	{At: 3 * time.Second, Kind: scenarios.StepPartition, Node: "n2", Hold: time.Second},
	{At: 4 * time.Second, Kind: scenarios.StepRestart, Node: "n1", Hold: time.Second},
	{At: 6 * time.Second, Kind: scenarios.StepKill, Node: "n3"},
	{At: 7 * time.Second, Kind: scenarios.StepKillRecovery, Node: "n1"},
}

func original(steps []scenarios.Step) shrink.Candidate {
	return shrink.Candidate{Steps: steps, Duration: 10 * time.Second, Clients: 2, Nodes: 3}
}

func config(f *fake, orig shrink.Candidate, out *bytes.Buffer) shrink.Config {
	f.now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return shrink.Config{Original: orig, Failing: []string{"convergence"}, MinNodes: 2, Runner: f, Out: out, Now: f.clock}
}

func lines(out *bytes.Buffer) []string {
	return strings.Split(strings.TrimSpace(out.String()), "\n")
}

var _ = Describe("Search", func() {
	var (
		out bytes.Buffer
		ctx context.Context
	)
	BeforeEach(func() {
		out.Reset()
		ctx = context.Background()
	})

	Describe("ddmin over the steps", func() {
		It("finds the two steps that together make the failure among six, in their order", func() {
			f := &fake{decide: failsWhen(func(c shrink.Candidate) bool { return hasKinds(c, scenarios.StepLag, scenarios.StepKill) })}
			cfg := config(f, original(sixSteps), &out)
			cfg.LoadFloor = 10 * time.Second // steps only
			cfg.MinNodes = 3
			cfg.Original.Clients = 1
			res, err := shrink.Search(ctx, cfg)
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Reproduced).To(BeTrue())
			Expect(res.Smaller).To(BeTrue())
			Expect(res.Smallest.Steps).To(Equal([]scenarios.Step{sixSteps[1], sixSteps[4]}))
			Expect(res.Stopped).To(BeEmpty())
			// 1-minimal: dropping either of the two was tried and passed
			Expect(f.ran).To(ContainElement(HaveField("Steps", Equal([]scenarios.Step{sixSteps[1]}))))
			Expect(f.ran).To(ContainElement(HaveField("Steps", Equal([]scenarios.Step{sixSteps[4]}))))
		})

		It("gets down to one step and then tries the empty plan", func() {
			f := &fake{decide: failsWhen(func(c shrink.Candidate) bool { return hasKinds(c, scenarios.StepKill) })}
			cfg := config(f, original(sixSteps[:5]), &out)
			cfg.LoadFloor, cfg.MinNodes = 10*time.Second, 3
			cfg.Original.Clients = 1
			res, err := shrink.Search(ctx, cfg)
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Smallest.Steps).To(Equal([]scenarios.Step{sixSteps[4]}))
			Expect(f.ran[len(f.ran)-1].Steps).To(BeEmpty())
		})

		It("drops every step when the failure needs none", func() {
			f := &fake{decide: failsWhen(func(shrink.Candidate) bool { return true })}
			cfg := config(f, original(sixSteps[:2]), &out)
			cfg.LoadFloor, cfg.MinNodes = 10*time.Second, 3
			cfg.Original.Clients = 1
			res, err := shrink.Search(ctx, cfg)
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Smallest.Steps).To(BeEmpty())
		})

		It("never runs the same candidate twice", func() {
			f := &fake{decide: failsWhen(func(c shrink.Candidate) bool { return hasKinds(c, scenarios.StepLag, scenarios.StepKill) })}
			cfg := config(f, original(sixSteps), &out)
			res, err := shrink.Search(ctx, cfg)
			Expect(err).NotTo(HaveOccurred())
			seen := map[string]bool{}
			for _, c := range f.ran {
				k := fmt.Sprint(c)
				Expect(seen).NotTo(HaveKey(k))
				seen[k] = true
			}
			Expect(res.Runs).To(Equal(len(f.ran)))
		})

		It("keeps the original when no subset fails: it is minimal", func() {
			f := &fake{decide: failsWhen(func(c shrink.Candidate) bool {
				return hasKinds(c, scenarios.StepLag, scenarios.StepKill) && c.Duration == 10*time.Second && c.Clients == 2 && c.Nodes == 3
			})}
			orig := original(sixSteps[1:2:2])
			orig.Steps = append(orig.Steps, sixSteps[4])
			res, err := shrink.Search(ctx, config(f, orig, &out))
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Reproduced).To(BeTrue())
			Expect(res.Smaller).To(BeFalse())
			Expect(res.Smallest).To(Equal(orig))
			Expect(res.SmallestDir).To(Equal("reports/run-1"))
		})
	})

	Describe("the load", func() {
		It("halves the load, scaling the steps, and stops at the floor", func() {
			f := &fake{decide: failsWhen(func(c shrink.Candidate) bool { return hasKinds(c, scenarios.StepKill) })}
			cfg := config(f, original(sixSteps[4:5]), &out)
			cfg.MinNodes = 3
			cfg.Original.Clients = 1
			res, err := shrink.Search(ctx, cfg)
			Expect(err).NotTo(HaveOccurred())
			var loads []time.Duration
			for _, c := range f.ran {
				loads = append(loads, c.Duration)
				Expect(c.Duration).To(BeNumerically(">=", shrink.DefaultLoadFloor))
			}
			// the re-run, the load halved down to the floor, then the steps
			// (the empty plan) at the shortest load
			Expect(loads).To(Equal([]time.Duration{10 * time.Second, 5 * time.Second, 2500 * time.Millisecond, 2 * time.Second, 2 * time.Second}))
			Expect(res.Smallest.Duration).To(Equal(2 * time.Second))
			Expect(res.Smallest.Steps).To(Equal([]scenarios.Step{{At: 1200 * time.Millisecond, Kind: scenarios.StepKill, Node: "n3"}}))
		})

		It("stops halving at the first shorter load that passes", func() {
			f := &fake{decide: failsWhen(func(c shrink.Candidate) bool { return c.Duration >= 5*time.Second })}
			cfg := config(f, original(nil), &out)
			cfg.MinNodes = 3
			cfg.Original.Clients = 1
			res, err := shrink.Search(ctx, cfg)
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Smallest.Duration).To(Equal(5 * time.Second))
			Expect(f.ran[len(f.ran)-1].Duration).To(Equal(2500 * time.Millisecond))
		})

		It("takes the seed's plan at the shorter load while the steps are the seed's plan", func() {
			seedPlan := func(nodes int, load time.Duration) []scenarios.Step {
				return []scenarios.Step{{At: load / 3, Kind: scenarios.StepLag, Node: "n1", Peer: "n3"}, {At: load * 2 / 3, Kind: scenarios.StepKill, Node: "n3"}}
			}
			f := &fake{decide: failsWhen(func(c shrink.Candidate) bool { return hasKinds(c, scenarios.StepLag, scenarios.StepKill) })}
			cfg := config(f, original(seedPlan(3, 10*time.Second)), &out)
			cfg.SeedPlan = seedPlan
			cfg.MinNodes = 3
			cfg.Original.Clients = 1
			cfg.LoadFloor = 5 * time.Second
			res, err := shrink.Search(ctx, cfg)
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Smallest.Steps).To(Equal(seedPlan(3, 5*time.Second)))
			Expect(out.String()).To(ContainSubstring("load 10s -> 5s (the seed's plan at that load)"))
		})
	})

	Describe("clients and nodes", func() {
		It("halves the clients per node down to 1", func() {
			f := &fake{decide: failsWhen(func(shrink.Candidate) bool { return true })}
			orig := original(nil)
			orig.Clients = 8
			cfg := config(f, orig, &out)
			cfg.MinNodes = 3
			res, err := shrink.Search(ctx, cfg)
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Smallest.Clients).To(Equal(1))
			var clients []int
			for _, c := range f.ran {
				clients = append(clients, c.Clients)
			}
			Expect(clients[len(clients)-3:]).To(Equal([]int{4, 2, 1}))
		})

		It("removes a node no step names, renames the nodes after it, and stops at the minimum", func() {
			steps := []scenarios.Step{
				{At: time.Second, Kind: scenarios.StepPause, Node: "n1", Hold: time.Second},
				{At: 2 * time.Second, Kind: scenarios.StepLag, Node: "n2", Peer: "n4"},
				{At: 6 * time.Second, Kind: scenarios.StepKill, Node: "n4"},
			}
			f := &fake{decide: failsWhen(func(c shrink.Candidate) bool { return len(c.Steps) == 3 })}
			orig := original(steps)
			orig.Nodes, orig.Clients = 5, 1
			cfg := config(f, orig, &out)
			cfg.LoadFloor = 10 * time.Second
			res, err := shrink.Search(ctx, cfg)
			Expect(err).NotTo(HaveOccurred())
			// n5 goes first (no step names it), then n3 with n4 renamed n3;
			// at 3 nodes every node is named: the stage stops there.
			Expect(res.Smallest.Nodes).To(Equal(3))
			Expect(res.Smallest.Steps).To(Equal([]scenarios.Step{steps[0],
				{At: 2 * time.Second, Kind: scenarios.StepLag, Node: "n2", Peer: "n3"}, {At: 6 * time.Second, Kind: scenarios.StepKill, Node: "n3"}}))
			Expect(out.String()).To(ContainSubstring("nodes 5 -> 4 (n5 removed)"))
			Expect(out.String()).To(ContainSubstring("nodes 4 -> 3 (n3 removed, the nodes after it renamed)"))
			Expect(out.String()).To(ContainSubstring("skipped [nodes] nodes 3 -> 2: every node is named by a fault step"))
			Expect(f.ran).NotTo(ContainElement(HaveField("Nodes", 2)))
		})

		It("never goes below the minimum node count", func() {
			f := &fake{decide: failsWhen(func(shrink.Candidate) bool { return true })}
			orig := original(nil)
			orig.Nodes = 5
			cfg := config(f, orig, &out)
			cfg.MinNodes = 4
			res, err := shrink.Search(ctx, cfg)
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Smallest.Nodes).To(Equal(4))
			for _, c := range f.ran {
				Expect(c.Nodes).To(BeNumerically(">=", 4))
			}
		})

		It("skips without a run a candidate the scenario refuses", func() {
			f := &fake{decide: failsWhen(func(shrink.Candidate) bool { return true })}
			cfg := config(f, original(nil), &out)
			cfg.Valid = func(c shrink.Candidate) error {
				if c.Nodes < 3 {
					return errors.New("scenario x needs 3..9 nodes, got 2")
				}
				return nil
			}
			res, err := shrink.Search(ctx, cfg)
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Smallest.Nodes).To(Equal(3))
			for _, c := range f.ran {
				Expect(c.Nodes).To(Equal(3))
			}
			Expect(out.String()).To(ContainSubstring("skipped [nodes] nodes 3 -> 2 (n3 removed): no fault steps, load 2s, 1 clients/node, 2 nodes: scenario x needs 3..9 nodes, got 2"))
		})
	})

	Describe("what counts as still failing", func() {
		It("keeps only runs where exactly the original's checkers fail", func() {
			f := &fake{decide: func(c shrink.Candidate) (shrink.Outcome, error) {
				switch {
				case len(c.Steps) == 2:
					return failConvergence, nil
				case hasKinds(c, scenarios.StepKill): // fails, but another checker too
					return shrink.Outcome{Verdict: verify.Fail, Failing: []string{"history", "convergence"}}, nil
				default: // fails, another checker only
					return shrink.Outcome{Verdict: verify.Fail, Failing: []string{"history"}}, nil
				}
			}}
			cfg := config(f, original([]scenarios.Step{sixSteps[1], sixSteps[4]}), &out)
			cfg.LoadFloor, cfg.MinNodes = 10*time.Second, 3
			cfg.Original.Clients = 1
			res, err := shrink.Search(ctx, cfg)
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Smaller).To(BeFalse())
			Expect(res.Attempts).To(HaveLen(3))
			Expect(res.Attempts[1].Kept).To(BeFalse())
			Expect(res.Attempts[2].Kept).To(BeFalse())
			Expect(res.Attempts[2].Line()).To(ContainSubstring("fail, failing convergence,history -> not kept"))
		})

		It("does not keep a run that errors or ends unknown, and goes on", func() {
			f := &fake{decide: func(c shrink.Candidate) (shrink.Outcome, error) {
				switch {
				case len(c.Steps) == 2:
					return failConvergence, nil
				case hasKinds(c, scenarios.StepKill):
					// a harness error: the checkers named what they had
					return shrink.Outcome{Verdict: verify.Unknown, Failing: []string{"convergence"}}, errors.New("phase up: node n2 never came up\nmore")
				default:
					return shrink.Outcome{Verdict: verify.Unknown, Failing: []string{"convergence"}}, nil
				}
			}}
			cfg := config(f, original([]scenarios.Step{sixSteps[1], sixSteps[4]}), &out)
			cfg.LoadFloor, cfg.MinNodes = 10*time.Second, 3
			cfg.Original.Clients = 1
			res, err := shrink.Search(ctx, cfg)
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Smaller).To(BeFalse())
			Expect(res.Runs).To(Equal(3))
			Expect(res.Attempts[1].Kept || res.Attempts[2].Kept).To(BeFalse())
			Expect(out.String()).To(ContainSubstring("error: phase up: node n2 never came up ... -> not kept"))
			Expect(out.String()).To(ContainSubstring("unknown, failing convergence -> not kept"))
		})
	})

	Describe("the original's re-run", func() {
		It("says not reproduced, and tries nothing else, when the original passes", func() {
			f := &fake{decide: failsWhen(func(shrink.Candidate) bool { return false })}
			res, err := shrink.Search(ctx, config(f, original(sixSteps), &out))
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Reproduced).To(BeFalse())
			Expect(f.ran).To(HaveLen(1))
			Expect(out.String()).To(ContainSubstring("-> pass, failing none -> NOT reproduced"))
		})

		It("says not reproduced when other checkers fail", func() {
			f := &fake{decide: func(shrink.Candidate) (shrink.Outcome, error) {
				return shrink.Outcome{Verdict: verify.Fail, Failing: []string{"history"}}, nil
			}}
			res, err := shrink.Search(ctx, config(f, original(sixSteps), &out))
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Reproduced).To(BeFalse())
		})

		It("is a harness error when the re-run errors or ends unknown", func() {
			f := &fake{decide: func(shrink.Candidate) (shrink.Outcome, error) {
				return shrink.Outcome{Verdict: verify.Unknown}, errors.New("docker: no such image")
			}}
			res, err := shrink.Search(ctx, config(f, original(sixSteps), &out))
			Expect(err).To(MatchError(ContainSubstring("re-running the original: docker: no such image")))
			Expect(res.Reproduced).To(BeFalse())

			f = &fake{decide: func(shrink.Candidate) (shrink.Outcome, error) { return shrink.Outcome{Verdict: verify.Unknown}, nil }}
			_, err = shrink.Search(ctx, config(f, original(sixSteps), &out))
			Expect(err).To(MatchError(ContainSubstring("verdict unknown")))
			Expect(f.ran).To(HaveLen(1))
		})

		It("refuses a config without failing checkers or with a negative budget", func() {
			f := &fake{decide: failsWhen(func(shrink.Candidate) bool { return true })}
			cfg := config(f, original(nil), &out)
			cfg.Failing = nil
			_, err := shrink.Search(ctx, cfg)
			Expect(err).To(HaveOccurred())
			cfg = config(f, original(nil), &out)
			cfg.Budget = -1
			_, err = shrink.Search(ctx, cfg)
			Expect(err).To(HaveOccurred())
			Expect(f.ran).To(BeEmpty())
		})
	})

	Describe("the budget", func() {
		It("runs at most Budget runs, the original's re-run included, and keeps the smallest so far", func() {
			f := &fake{decide: failsWhen(func(c shrink.Candidate) bool { return hasKinds(c, scenarios.StepLag, scenarios.StepKill) })}
			cfg := config(f, original(sixSteps), &out)
			// the re-run, 2 halves, 4 quarters (all pass), then the first
			// complement (5 steps) fails: 8 runs (the load is at its floor
			// already, so the load stage runs nothing)
			cfg.LoadFloor = 10 * time.Second
			cfg.Budget = 8
			res, err := shrink.Search(ctx, cfg)
			Expect(err).NotTo(HaveOccurred())
			Expect(f.ran).To(HaveLen(8))
			Expect(res.Runs).To(Equal(8))
			Expect(res.Stopped).To(Equal(shrink.StoppedBudget))
			Expect(res.Reproduced).To(BeTrue())
			Expect(hasKinds(res.Smallest, scenarios.StepLag, scenarios.StepKill)).To(BeTrue())
			Expect(res.Smallest.Steps).To(Equal(sixSteps[1:]))
			Expect(res.Smaller).To(BeTrue())
		})

		It("with a budget of 1 only re-runs the original", func() {
			f := &fake{decide: failsWhen(func(shrink.Candidate) bool { return true })}
			cfg := config(f, original(sixSteps), &out)
			cfg.Budget = 1
			res, err := shrink.Search(ctx, cfg)
			Expect(err).NotTo(HaveOccurred())
			Expect(f.ran).To(HaveLen(1))
			Expect(res.Smaller).To(BeFalse())
			Expect(res.Stopped).To(Equal(shrink.StoppedBudget))
		})

		It("starts no attempt once the time budget has passed", func() {
			f := &fake{decide: failsWhen(func(shrink.Candidate) bool { return true })}
			cfg := config(f, original(sixSteps), &out)
			cfg.BudgetTime = 150 * time.Second // a run takes a minute on the fake clock
			res, err := shrink.Search(ctx, cfg)
			Expect(err).NotTo(HaveOccurred())
			Expect(f.ran).To(HaveLen(3))
			Expect(res.Stopped).To(Equal(shrink.StoppedTime))
		})

		It("without a budget runs every stage to its end", func() {
			f := &fake{decide: failsWhen(func(shrink.Candidate) bool { return true })}
			cfg := config(f, original(sixSteps), &out)
			res, err := shrink.Search(ctx, cfg)
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Stopped).To(BeEmpty())
			Expect(res.Smallest.Steps).To(BeEmpty())
			Expect(res.Smallest.Duration).To(Equal(2 * time.Second))
			Expect(res.Smallest.Clients).To(Equal(1))
			Expect(res.Smallest.Nodes).To(Equal(2))
		})

		It("stops after the current run when interrupted", func() {
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			f := &fake{}
			f.decide = func(shrink.Candidate) (shrink.Outcome, error) {
				if len(f.ran) == 2 {
					cancel()
				}
				return failConvergence, nil
			}
			res, err := shrink.Search(cctx, config(f, original(sixSteps), &out))
			Expect(err).To(MatchError(context.Canceled))
			Expect(f.ran).To(HaveLen(2))
			Expect(res.Reproduced).To(BeTrue())
			Expect(res.Smaller).To(BeTrue())
		})
	})

	Describe("the output", func() {
		It("prints one line per attempt as it ends: stage, change, candidate, verdict, failing, kept, directory", func() {
			f := &fake{decide: failsWhen(func(c shrink.Candidate) bool { return hasKinds(c, scenarios.StepKill) && c.Duration >= 5*time.Second })}
			var status bytes.Buffer
			cfg := config(f, original([]scenarios.Step{sixSteps[1], sixSteps[4]}), &out)
			cfg.Status = &status
			cfg.MinNodes = 3
			cfg.Original.Clients = 1
			res, err := shrink.Search(ctx, cfg)
			Expect(err).NotTo(HaveOccurred())
			Expect(lines(&out)).To(HaveLen(res.Runs))
			Expect(lines(&status)).To(HaveLen(res.Runs))
			Expect(lines(&out)).To(Equal([]string{
				"attempt 1 [original] re-run as stored: 2 steps (t+2s lag n1 from n3; t+6s kill n3), load 10s, 1 clients/node, 3 nodes -> fail, failing convergence -> reproduced (1m0s, reports/run-1)",
				"attempt 2 [load] load 10s -> 5s (step times scaled): 2 steps (t+1s lag n1 from n3; t+3s kill n3), load 5s, 1 clients/node, 3 nodes -> fail, failing convergence -> KEPT (1m0s, reports/run-2)",
				"attempt 3 [load] load 5s -> 2.5s (step times scaled): 2 steps (t+500ms lag n1 from n3; t+1.5s kill n3), load 2.5s, 1 clients/node, 3 nodes -> pass, failing none -> not kept (1m0s, reports/run-3)",
				"attempt 4 [steps] keep 1 of 2 steps: drop t+3s kill n3: 1 step (t+1s lag n1 from n3), load 5s, 1 clients/node, 3 nodes -> pass, failing none -> not kept (1m0s, reports/run-4)",
				"attempt 5 [steps] keep 1 of 2 steps: drop t+1s lag n1 from n3: 1 step (t+3s kill n3), load 5s, 1 clients/node, 3 nodes -> fail, failing convergence -> KEPT (1m0s, reports/run-5)",
				"attempt 6 [steps] keep 0 of 1 steps: drop t+3s kill n3: no fault steps, load 5s, 1 clients/node, 3 nodes -> pass, failing none -> not kept (1m0s, reports/run-6)",
			}))
			Expect(status.String()).To(HavePrefix("attempt 1 [original] running: re-run as stored: "))
			Expect(res.SmallestDir).To(Equal("reports/run-5"))
		})
	})
})
