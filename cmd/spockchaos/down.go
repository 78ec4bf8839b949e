package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spockchaos/spockchaos/harness"
)

func init() { commands = append(commands, newDownCmd, newCleanCmd) }

func newDownCmd() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "down [RUN_ID]",
		Short: "Remove a run's containers and network (or every run's, with --all)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if all == (len(args) == 1) {
				return errors.New("down: give exactly one of RUN_ID or --all")
			}
			if !all {
				found, err := harness.RemoveRun(ctx, args[0])
				if err != nil {
					return err
				}
				if !found {
					return fmt.Errorf("down: no containers or networks labelled %s=%s", harness.LabelRun, args[0])
				}
				fmt.Fprintln(cmd.OutOrStdout(), "removed", args[0])
				return nil
			}
			runs, err := harness.ListRuns(ctx)
			if err != nil {
				return err
			}
			var errs []error
			for _, r := range runs {
				if _, err := harness.RemoveRun(ctx, r.RunID); err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintln(cmd.OutOrStdout(), "removed", r.RunID)
			}
			return errors.Join(errs...)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "remove every spockchaos run")
	return cmd
}

func newCleanCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "clean [RUN_ID...]",
		Short: "Remove what dead runs left behind (not detached runs, not runs whose process still lives)",
		Long: `Removes the containers and networks of runs whose process is certainly
gone (killed with SIGKILL, a closed laptop): not runs started with --detach
(spockchaos down removes those) and not runs whose process still runs or
cannot be judged from here (another host or pid namespace). A run's process
is told by the labels on its containers and network: host, pid namespace,
pid and the process's start time, so a reused pid is not mistaken for it.
With RUN_IDs only those runs are looked at, and one that must be kept or
is not found is an error (exit 2) saying why.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			removed, err := harness.Clean(cmd.Context(), args...)
			for _, id := range removed {
				fmt.Fprintln(cmd.OutOrStdout(), "removed", id)
			}
			if err == nil && len(removed) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "nothing to clean")
			}
			return err
		},
	}
}
