package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/spockchaos/spockchaos/repro"
	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
)

func init() { commands = append(commands, newReproCmd) }

func newReproCmd() *cobra.Command {
	var opts repro.Options
	cmd := &cobra.Command{
		Use:   "repro DIR",
		Short: "Re-run exactly what a stored run directory ran, and say whether the plan and the verdict came out the same",
		Long: `Reads DIR/run.json (scenario, seed, nodes, flavor, image, recovery, load,
clients, the fault plan, the image and spockchaos version it was made with),
runs it again into a new run directory under --out, and compares: the same
plan steps, the same verdict, the same failing checkers. Warns when the
spockchaos version or the node image differs. --keep leaves the cluster up
when the verdict is not pass. Exit code: 0 reproduced, 1 not reproduced
(a different plan, verdict or failing checkers), 2 a harness error, an
unknown verdict or bad input.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Progress = cmd.ErrOrStderr()
			if f, ok := opts.Progress.(*os.File); ok {
				opts.Live = term.IsTerminal(int(f.Fd()))
			}
			res, runErr := repro.Run(cmd.Context(), args[0], opts)
			if res == nil || res.Outcome == nil {
				return runErr
			}
			w := cmd.OutOrStdout()
			rec, out := res.Original, res.Outcome
			var failed []string
			if out.Run != nil {
				for _, c := range out.Run.Checkers {
					if c.Problem() {
						failed = append(failed, c.Name)
					}
				}
			}
			fmt.Fprintf(w, "stored:     %s seed %d: verdict %s (failing: %s), %d fault steps, spockchaos %s\n",
				rec.Scenario, rec.Seed, rec.Verdict, noneIfEmpty(rec.Failed), len(rec.Steps), rec.Version)
			fmt.Fprintf(w, "reproduced: verdict %s (failing: %s), %d fault steps\n", out.Verdict, noneIfEmpty(failed), len(out.Plan.Steps))
			fmt.Fprintf(w, "plan %s, verdict %s, failing checkers %s\n", same(res.SamePlan), same(res.SameVerdict), same(res.SameFailures))
			for _, warning := range res.Warnings {
				fmt.Fprintf(w, "warning: %s\n", warning)
			}
			printReportAndKept(w, out)
			switch {
			case runErr != nil:
				return runErr
			case out.Verdict == verify.Unknown:
				return &exitError{code: exitHarness, err: errors.New("verdict unknown: a checker could not decide (see the report)")}
			case res.Reproduced:
				fmt.Fprintln(w, "REPRODUCED")
				return nil
			}
			fmt.Fprintln(w, "NOT REPRODUCED")
			return &exitError{code: exitFail}
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.OutDir, "out", scenarios.DefaultOutDir, "parent folder of the new run directory")
	f.BoolVar(&opts.Keep, "keep", false, "leave the cluster up when the verdict is not pass")
	return cmd
}

func same(b bool) string {
	if b {
		return "same"
	}
	return "DIFFERENT"
}

func noneIfEmpty(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
