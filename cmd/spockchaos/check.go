package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/reports"
	"github.com/spockchaos/spockchaos/scenarios"
	"github.com/spockchaos/spockchaos/verify"
)

func init() { commands = append(commands, newCheckCmd) }

// newCheckCmd re-runs the history checkers of a stored run with no
// cluster. Exit 0 if the re-checked verdict is pass, 1 if fail, 2 if
// unknown or on error.
func newCheckCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check DIR",
		Short: "Re-run the history checkers on a run directory (no cluster) and say whether the verdict changed",
		Long: "Re-run the history checkers on DIR/history.jsonl and DIR/observation.json with the survivors\n" +
			"and failed nodes of DIR/run.json, and compare with the stored results.\n" +
			"Exit 0 if the re-checked verdict is pass, 1 if fail, 2 if unknown or on error.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rc, err := reports.RecheckDir(args[0], scenarios.RecheckStored)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(rc); err != nil {
					return fmt.Errorf("check: print result: %w", err)
				}
			} else {
				printRecheck(cmd.OutOrStdout(), rc)
				printStoredFindings(cmd.OutOrStdout(), args[0])
			}
			switch rc.Verdict {
			case verify.Pass:
				return nil
			case verify.Fail:
				return &exitError{code: exitFail}
			}
			return &exitError{code: exitHarness, err: errors.New("check: re-checked verdict is unknown")}
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object instead of a table")
	return cmd
}

func printRecheck(w io.Writer, rc *reports.Recheck) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECKER\tSTORED\tRECHECKED\tSUMMARY")
	for _, c := range rc.Checkers {
		stored := string(c.Stored)
		if stored == "" {
			stored = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Name, stored, c.Result.Verdict, c.Result.Summary)
	}
	_ = tw.Flush()
	changed := "unchanged"
	if rc.Changed {
		changed = "CHANGED"
	}
	fmt.Fprintf(w, "verdict: %s (stored: %s for these checkers, %s for the run): %s\n",
		rc.Verdict, orNone(rc.StoredHistoryVerdict), rc.StoredVerdict, changed)
}

func orNone(v verify.Verdict) string {
	if v == "" {
		return "none"
	}
	return string(v)
}

// printStoredFindings says, for a stored FAIL of a scenario with known
// findings on its flavor, whether they explain it (its stored checkers,
// scenarios.Explain); nothing otherwise.
func printStoredFindings(w io.Writer, dir string) {
	run, err := record.Load(dir)
	if err != nil || run.EffectiveVerdict() != verify.Fail {
		return
	}
	spec, err := scenarios.Lookup(run.Scenario)
	if err != nil {
		return
	}
	if fs := spec.FindingsFor(run.Flavor); len(fs) > 0 {
		printFindings(w, run.Flavor, fs, dir, run.Checkers)
	}
}
