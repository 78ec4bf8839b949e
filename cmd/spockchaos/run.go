package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/reports"
	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
)

func init() { commands = append(commands, newRunCmd) }

func newRunCmd() *cobra.Command {
	var (
		opts     scenarios.Options
		planOnly bool
		sets     []string
	)
	cmd := &cobra.Command{
		Use:   "run SCENARIO",
		Short: "Run one scenario (phases up, load, fault, detect, recover, quiesce, verify, report)",
		Long: `Runs one scenario and writes its run directory (run.json, history.jsonl,
results.json, junit.xml, summary.md, report.html, nodes/). Prints the seed
first and the verdict and report path last. Exit code 0 pass, 1 fail,
2 harness error or unknown verdict. Ctrl-C stops the run, removes the
cluster and still writes what it has. --plan prints the fault plan the
seed gives and exits without starting anything.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec, err := scenarios.Lookup(args[0])
			if err != nil {
				return err
			}
			// 0 means "the default" inside; given on the command line it is
			// a mistake, not a request for the default.
			if err := refuseExplicitZero(cmd, "seed", "nodes", "duration", "timeout", "pg"); err != nil {
				return err
			}
			if opts.Seed == 0 {
				opts.Seed = scenarios.NewSeed()
			}
			if opts.Settings, err = parseSets(sets); err != nil {
				return err
			}
			// Check every option before anything starts, --plan included.
			resolved, err := scenarios.Resolve(spec, opts)
			if err != nil {
				return err
			}
			if planOnly {
				fmt.Fprint(cmd.OutOrStdout(), scenarios.NewPlan(spec, resolved.Seed, resolved.Nodes, resolved.Duration).String())
				return nil
			}
			opts.Progress = cmd.ErrOrStderr()
			if f, ok := opts.Progress.(*os.File); ok {
				opts.Live = term.IsTerminal(int(f.Fd()))
			}
			out, runErr := scenarios.Run(cmd.Context(), spec, opts)
			if out == nil {
				return runErr
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "verdict: %s (expected for this scenario: %s)\n", out.Verdict, spec.ExpectFor(opts.Flavor))
			fmt.Fprintf(w, "seed: %d  replay: %s\n", opts.Seed, record.ReplayCommand(out.Run))
			for _, c := range reports.DivergenceOf(out.Run.Checkers) {
				fmt.Fprintf(w, "divergence: %s (e.g. %s)\n", c.Line, strings.Join(c.Examples, ", "))
			}
			for _, line := range reports.FailingKeys(out.Run, 5) {
				fmt.Fprintln(w, line)
			}
			if fs := spec.FindingsFor(opts.Flavor); len(fs) > 0 && out.Verdict == verify.Fail {
				printFindings(w, opts.Flavor, fs, out.Dir, out.Run.Checkers)
			}
			printReportAndKept(w, out)
			switch {
			case runErr != nil:
				return runErr
			case out.Verdict == verify.Pass:
				return nil
			case out.Verdict == verify.Fail:
				return &exitError{code: exitFail}
			default:
				return &exitError{code: exitHarness, err: errors.New("verdict unknown: a checker could not decide (see the report)")}
			}
		},
	}
	f := cmd.Flags()
	f.Int64Var(&opts.Seed, "seed", 0, "seed of every random choice (default: a new one, printed)")
	f.IntVar(&opts.Nodes, "nodes", 0, "node count (default: the scenario's)")
	f.StringVar(&opts.Flavor, "flavor", "pglogical", "replication flavor: pglogical or spock")
	f.StringVar(&opts.Image, "image", "", "node image (default: the flavor's)")
	f.IntVar(&opts.PG, "pg", 0, "PostgreSQL major of pglogical's built image: 15, 17 (default) or 18; with --image, that image's major")
	f.StringVar(&opts.Recovery, "recovery", "", "recovery strategy: auto, reference, spock, none (default: the scenario's)")
	f.DurationVar(&opts.Duration, "duration", 0, "load duration (default: the scenario's)")
	f.DurationVar(&opts.Timeout, "timeout", 0, "bound the whole run, all phases (default: the scenario's); on expiry the verdict is unknown and run.json names the phase")
	f.StringVar(&opts.OutDir, "out", scenarios.DefaultOutDir, "parent folder of the run directory")
	f.BoolVar(&opts.Keep, "keep", false, "leave the cluster up when the verdict is not pass")
	f.BoolVar(&planOnly, "plan", false, "print the plan the seed gives and exit")
	registerSet(f, &sets)
	return cmd
}

// registerSet adds the repeatable --set NAME=VALUE flag (a server setting
// of every node). A string array, not a slice: a value may hold commas.
func registerSet(f *pflag.FlagSet, sets *[]string) {
	f.StringArrayVar(sets, "set", nil, "server setting NAME=VALUE of every node, repeatable (e.g. spock.exception_behaviour=sub_disable)")
}

// parseSets parses the --set flags (harness.ParseSettings).
func parseSets(sets []string) (map[string]string, error) {
	m, err := harness.ParseSettings(sets)
	if err != nil {
		return nil, fmt.Errorf("--set: %w", err)
	}
	return m, nil
}

// refuseExplicitZero refuses flags given as 0 (or 0s) whose zero value
// means "the default".
func refuseExplicitZero(cmd *cobra.Command, names ...string) error {
	for _, name := range names {
		f := cmd.Flags().Lookup(name)
		if f == nil || !f.Changed {
			continue
		}
		switch f.Value.String() {
		case "0", "0s":
			return fmt.Errorf("--%s must not be 0 (leave the flag out for the default)", name)
		}
	}
	return nil
}

// printReportAndKept prints where a run's report is and, when its cluster
// was kept, how to connect to it and remove it.
func printReportAndKept(w io.Writer, out *scenarios.Outcome) {
	fmt.Fprintf(w, "report: %s\n", filepath.Join(out.Dir, "report.html"))
	if out.Kept == nil {
		return
	}
	fmt.Fprintf(w, "cluster kept: %s\n", out.Kept.RunID)
	for _, n := range out.Kept.Nodes {
		fmt.Fprintf(w, "  %s  psql '%s'\n", n.Name, n.DSN)
	}
	fmt.Fprintf(w, "remove it with: spockchaos down %s\n", out.Kept.RunID)
}

// printFindings says whether the known findings of flavor explain a FAIL,
// every failing checker of it (scenarios.Explain: the server's evidence),
// and which of them did.
func printFindings(w io.Writer, flavor string, fs []scenarios.Finding, dir string, checkers []verify.CheckResult) {
	ok, why := scenarios.Explain(fs, dir, checkers)
	if !ok {
		fmt.Fprintf(w, "not by the known %s findings: %s\n", flavor, why)
		return
	}
	fmt.Fprintf(w, "known findings of %s (the system under test): %s\n", flavor, why)
	for _, f := range fs {
		if strings.Contains(why, f.Name) {
			fmt.Fprintf(w, "  %s: %s\n", f.Name, f.Summary)
		}
	}
}
