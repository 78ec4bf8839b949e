package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/shrink"
)

func init() { commands = append(commands, newShrinkCmd) }

func newShrinkCmd() *cobra.Command {
	var (
		opts        shrink.Options
		runProgress bool
	)
	cmd := &cobra.Command{
		Use:   "shrink DIR",
		Short: "From a failing run directory, search for a smaller run that still fails the same checkers",
		Long: `Re-runs the failing run stored in DIR, then tries smaller runs, each a normal
run with its own run directory under --out, in this order: a shorter load
(halved, not below --load-floor), fewer fault steps (delta debugging over
the plan), fewer clients per node (halved), fewer nodes (one at a time, not below the
scenario's minimum). A candidate is kept only when it ends fail with exactly
the checkers that failed in DIR; an error or an unknown verdict never counts.
Prints one line per attempt on stdout as it ends (running lines go to
stderr), then the smallest failing run and, last, its command line:
"spockchaos run ..." when flags can say it, else "spockchaos repro DIR" of
its run directory (repro replays the stored plan and clients).

--confirm N: a candidate (the re-run of DIR included) counts as still
failing only when it fails the same way N runs in a row (default 1; each
attempt line says how many did); most of these failures depend on timing.
--budget bounds the runs (the re-run of DIR and every confirming run
included; a candidate starts only when all its N runs fit; 0 no limit),
--budget-time the time after which no attempt starts (0 no limit).
Exit code: 0 a smaller failing run was found or DIR is already minimal,
1 DIR does not fail the same way again (not reproducible), 2 bad input,
a harness error or an unknown verdict on the re-run of DIR.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Confirm < 1 {
				return fmt.Errorf("shrink: --confirm must be at least 1, got %d", opts.Confirm)
			}
			w := cmd.OutOrStdout()
			opts.Out, opts.Status = w, cmd.ErrOrStderr()
			if runProgress {
				opts.Progress = cmd.ErrOrStderr()
			}
			p, err := shrink.Prepare(args[0], opts)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "shrinking %s seed %d: failing %s; %s\n", p.Recorded.Scenario, p.Recorded.Seed, noneIfEmpty(p.Config.Failing), p.Config.Original)
			if opts.Confirm > 1 {
				fmt.Fprintf(w, "a candidate counts only when it fails the same way %d runs in a row\n", opts.Confirm)
			}
			res, err := p.Run(cmd.Context())
			if res == nil {
				return err
			}
			if !res.Reproduced {
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "NOT REPRODUCED: %s does not fail %s again\n", args[0], noneIfEmpty(res.Failing))
				return &exitError{code: exitFail}
			}
			switch res.Stopped {
			case shrink.StoppedBudget:
				fmt.Fprintf(w, "stopped: the budget of %d runs is spent\n", opts.Budget)
			case shrink.StoppedTime:
				fmt.Fprintf(w, "stopped: the time budget of %s has passed\n", opts.BudgetTime)
			}
			if !res.Smaller {
				fmt.Fprintln(w, "nothing smaller fails the same way: the original is minimal")
			}
			fmt.Fprintln(w, res.Summary())
			fmt.Fprintf(w, "smallest run directory: %s\n", res.SmallestDir)
			fmt.Fprintf(w, "smallest failing command: %s\n", res.Command)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.OutDir, "out", scenarios.DefaultOutDir, "parent folder of every attempt's run directory")
	f.IntVar(&opts.Budget, "budget", shrink.DefaultBudget, "most runs, the re-run of DIR included (0: no limit)")
	f.DurationVar(&opts.BudgetTime, "budget-time", 0, "start no attempt after this much time (0: no limit)")
	f.DurationVar(&opts.LoadFloor, "load-floor", shrink.DefaultLoadFloor, "shortest load tried")
	f.IntVar(&opts.Confirm, "confirm", 1, "runs in a row a candidate must fail the same way to count")
	f.BoolVar(&runProgress, "run-progress", false, "print each run's own progress lines on stderr")
	return cmd
}
