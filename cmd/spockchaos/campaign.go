package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/spockchaos/spockchaos/campaign"
	"github.com/spockchaos/spockchaos/scenarios"
)

func init() { commands = append(commands, newCampaignCmd) }

func newCampaignCmd() *cobra.Command {
	var (
		label        string
		seeds        int
		campaignSeed int64
		seedList     []string
		flavors      []string
		images       []string
		m            campaign.Matrix
		shard        string
		parallel     int
		out          string
		sets         []string
		sweep        string
	)
	cmd := &cobra.Command{
		Use:   "campaign [PATTERN...] [--label L]",
		Short: "Run a matrix of scenarios x seeds x targets x repeats; resumable, shardable (--shard I/N), merged by `campaign merge`",
		Long: `Runs every cell of scenarios (names or regular expressions, and/or --label)
x seeds (--seeds N derived from --campaign-seed, or --seed-list) x targets
(--flavor/--image, repeatable: the i-th image goes with the i-th flavor, or
one flavor with every image) x --repeat, one cell after another (--parallel P).

Each cell is an ordinary run with its own run directory under
OUT/cells/<cell>/. Re-running the same command into the same --out resumes:
finished cells are skipped, interrupted ones run again. Ctrl-C stops the
running cell cleanly (cluster removed) and leaves the campaign resumable.
--shard I/N runs a deterministic, balanced part of the cells (for a CI
matrix or a Kubernetes Indexed Job); ` + "`spockchaos campaign merge`" + ` combines shards.

--set NAME=VALUE (repeatable) gives every cell's nodes a server setting;
--sweep NAME=V1,V2,... makes one cell per value (an axis of the matrix,
shown with each cell's target, e.g. spock@img spock.exception_behaviour=discard).

Writes OUT/campaign.json, junit.xml, summary.md and campaign.html, and
prints, last, the wall time against the cells' own time. Exit code: 0 every
cell met its expected verdict, 1 a cell did not (pass/fail other than
expected), 2 a harness error, a cell not run, or bad input.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := refuseExplicitZero(cmd, "pg"); err != nil {
				return err
			}
			var err error
			if m.Scenarios, err = selectScenarios(args, label); err != nil {
				return err
			}
			switch {
			case len(seedList) > 0 && cmd.Flags().Changed("seeds"):
				return errors.New("give --seeds or --seed-list, not both")
			case len(seedList) > 0:
				if m.Seeds, err = campaign.ParseSeedList(seedList); err != nil {
					return err
				}
			case seeds < 1:
				return fmt.Errorf("--seeds must be at least 1, got %d", seeds)
			default:
				m.Seeds = campaign.SeedsFrom(campaignSeed, seeds)
			}
			if m.Targets, err = campaign.Targets(flavors, images); err != nil {
				return err
			}
			if m.Repeat < 1 {
				return fmt.Errorf("--repeat must be at least 1, got %d", m.Repeat)
			}
			if m.Settings, err = parseSets(sets); err != nil {
				return err
			}
			if sweep != "" {
				if m.Sweep, err = campaign.ParseSweep(sweep); err != nil {
					return err
				}
			}
			var sh campaign.Shard
			if shard != "" {
				if sh, err = campaign.ParseShard(shard); err != nil {
					return err
				}
			}
			if parallel < 1 {
				return fmt.Errorf("--parallel must be at least 1, got %d", parallel)
			}
			m = m.Normalize()
			if err := m.Validate(); err != nil {
				return err
			}
			if out == "" {
				out = filepath.Join(scenarios.DefaultOutDir, "campaign-"+m.Fingerprint())
			}
			camp, st, err := campaign.Run(cmd.Context(), out, m, campaign.Options{Shard: sh, Parallel: parallel, Progress: cmd.ErrOrStderr()})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			printCampaignEnd(w, out, camp)
			if st.Interrupted {
				fmt.Fprintf(w, "interrupted: %d cells ran now, %d before; re-run the same command to resume\n", st.Ran, st.Skipped)
			}
			if st.Ran > 0 {
				fmt.Fprintf(w, "bookkeeping: wall %.1f s, cells %.1f s (%d run now, parallel %d), ratio %.3f\n",
					st.Wall.Seconds(), st.CellTime.Seconds(), st.Ran, st.Parallel, st.Overhead())
			}
			return campaignExit(camp)
		},
	}
	f := cmd.Flags()
	f.StringVar(&label, "label", "", "every scenario with this label (gate, nightly, release)")
	f.IntVar(&seeds, "seeds", 1, "how many seeds, derived from --campaign-seed")
	f.Int64Var(&campaignSeed, "campaign-seed", 1, "seed the --seeds are derived from (the same one gives the same seeds everywhere)")
	f.StringSliceVar(&seedList, "seed-list", nil, "explicit seeds, comma-separated (instead of --seeds)")
	f.StringArrayVar(&flavors, "flavor", nil, "target flavor, repeatable (default pglogical)")
	f.StringArrayVar(&images, "image", nil, "target node image, repeatable (the i-th goes with the i-th --flavor)")
	f.IntVar(&m.Repeat, "repeat", 1, "runs of every scenario x seed x target")
	f.IntVar(&m.Nodes, "nodes", 0, "node count of every cell (default: each scenario's)")
	f.StringVar(&m.Recovery, "recovery", "", "recovery strategy of every cell (default: each scenario's)")
	f.IntVar(&m.PG, "pg", 0, "PostgreSQL major of every cell: 15, 17 (default) or 18 (pglogical's built image; with --image, its major)")
	f.DurationVar(&m.Duration, "duration", 0, "load duration of every cell (default: each scenario's)")
	f.StringVar(&shard, "shard", "", "run only shard I of N (I/N, 1-based), e.g. 2/4")
	f.IntVar(&parallel, "parallel", 1, "cells run at once (a 2-core machine runs one cluster at a time well)")
	f.StringVar(&out, "out", "", "campaign folder (default runs/campaign-<fingerprint>; the same one resumes)")
	registerSet(f, &sets)
	f.StringVar(&sweep, "sweep", "", "one cell per value of a server setting, NAME=V1,V2,... (e.g. spock.exception_behaviour=transdiscard,discard,sub_disable)")
	cmd.AddCommand(newCampaignMergeCmd(), newCampaignReportCmd())
	return cmd
}

// selectScenarios is the union of the scenarios each pattern selects
// (with label), or every scenario with label when no pattern is given.
func selectScenarios(patterns []string, label string) ([]string, error) {
	if len(patterns) == 0 {
		if label == "" {
			return nil, errors.New("name scenarios (names or patterns) or give --label")
		}
		patterns = []string{""}
	}
	var names []string
	for _, p := range patterns {
		specs, err := scenarios.Select(p, label)
		if err != nil {
			return nil, err
		}
		for _, s := range specs {
			names = append(names, s.Name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

func newCampaignMergeCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "merge DIR... --out D",
		Short: "Combine shard directories of one campaign (from any machines) into one campaign",
		Long: `Copies every finished cell of the shard directories into --out and writes
its campaign.json, junit.xml, summary.md and campaign.html for the whole
matrix. Refuses directories of different campaigns. Exit code as for
campaign: 0 every cell met its expected verdict, 1 one did not, 2 a
harness error or a cell that no shard ran.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return errors.New("merge needs --out DIR (a new folder)")
			}
			camp, rep, err := campaign.Merge(out, args)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			for _, src := range args {
				fmt.Fprintf(w, "%s: %d cells\n", src, rep.Copied[src])
			}
			for _, id := range rep.Duplicates {
				fmt.Fprintf(w, "cell %s was in more than one shard: kept the one that finished last\n", id)
			}
			printCampaignEnd(w, out, camp)
			return campaignExit(camp)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "the merged campaign's folder")
	return cmd
}

func newCampaignReportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "report DIR",
		Short: "Re-render campaign.json, junit.xml, summary.md and campaign.html of a campaign folder from its cells",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			old, err := campaign.LoadIndex(args[0])
			if err != nil {
				return err
			}
			sel := campaign.Shard{}
			if old.Selection != "all" && old.Selection != "" {
				if sel, err = campaign.ParseShard(old.Selection); err != nil {
					return fmt.Errorf("%s: selection %w", args[0], err)
				}
			}
			camp, err := campaign.Index(args[0], old.Matrix, sel)
			if err != nil {
				return err
			}
			camp.Sources = old.Sources
			if err := campaign.WriteReports(args[0], camp); err != nil {
				return err
			}
			printCampaignEnd(cmd.OutOrStdout(), args[0], camp)
			return campaignExit(camp)
		},
	}
}

func printCampaignEnd(w interface{ Write([]byte) (int, error) }, dir string, camp *campaign.Campaign) {
	t := camp.Totals
	fmt.Fprintf(w, "campaign %s: %d cells, %d done (pass %d, fail %d, unknown %d), %d met the expected verdict, %d failed by known findings, %d pending\n",
		camp.Fingerprint, t.Cells, t.Done, t.Pass, t.Fail, t.Unknown, t.Met, t.Explained, t.Pending)
	for _, r := range camp.Explained() {
		fmt.Fprintf(w, "  EXPLAINED %s: %s by known findings: %s\n", r.Cell, r.Verdict, r.Explained)
	}
	for _, r := range camp.Unmet() {
		fmt.Fprintf(w, "  NOT AS EXPECTED %s: %s (expected %s)  replay: %s  repro: spockchaos repro %s\n",
			r.Cell, r.Verdict, r.Expect, r.Replay, filepath.Join(dir, filepath.FromSlash(r.RunDir)))
	}
	fmt.Fprintf(w, "report: %s\n", filepath.Join(dir, campaign.HTMLFile))
}

func campaignExit(camp *campaign.Campaign) error {
	switch camp.ExitCode() {
	case campaign.ExitMet:
		return nil
	case campaign.ExitUnmet:
		return &exitError{code: exitFail}
	}
	return &exitError{code: exitHarness}
}
