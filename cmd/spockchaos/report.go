package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/spockchaos/spockchaos/reports"
)

func init() { commands = append(commands, newReportCmd) }

// newReportCmd re-renders a run directory's reports from its run.json and
// history.jsonl, with no cluster. The verdict does not set the exit code:
// rendering succeeded or it did not.
func newReportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "report DIR",
		Short: "Re-render results.json, junit.xml, summary.md and report.html of a run directory",
		Long: "Re-render every report file of a run directory from its run.json and history.jsonl alone\n" +
			"(no cluster needed). Prints the report's path and the run's verdict.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			run, err := reports.Rerender(dir)
			if err != nil {
				return fmt.Errorf("report %s: %w", dir, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: verdict %s (scenario %s, seed %d)\n",
				filepath.Join(dir, reports.HTMLFile), run.EffectiveVerdict(), run.Scenario, run.Seed)
			return nil
		},
	}
}
