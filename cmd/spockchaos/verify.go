package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/record"
	"github.com/spockchaos/spockchaos/verify"
)

func init() { commands = append(commands, newVerifyCmd) }

// verifyOutput is what `verify --json` prints: exactly one object.
type verifyOutput struct {
	Converged bool                      `json:"converged"`
	Nodes     []verifyNode              `json:"nodes"`
	Report    *verify.ConvergenceReport `json:"report"`
}

type verifyNode struct {
	Name   string `json:"name"`
	Server string `json:"server"`
}

func newVerifyCmd() *cobra.Command {
	var (
		dsns      []string
		runID     string
		tables    []string
		asJSON    bool
		ownSchema bool
		shared    bool
		timeout   time.Duration
	)
	cmd := &cobra.Command{
		Use:   "verify (--dsn A --dsn B [--dsn C ...] | --run RUN_ID|RUN_DIR)",
		Short: "Compare the tables of two or more PostgreSQL servers row by row",
		Long: `Compares every table of every user schema (or those named with --tables)
on the servers given with --dsn, each read in one consistent snapshot: key
ranges are hashed on the servers, ranges that differ are split, then their
rows are fetched and diffed. The servers are called n1..nN in --dsn order.
--run RUN_ID compares the running nodes of a cluster of ours (spockchaos up
--detach, or run --keep) instead, by their names, as --shared-host; --run
also takes a run directory (the run id is read from its run.json).
Exit 0: converged; 1: differences (listed); 2: the comparison could not run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			if timeout < 0 {
				return fmt.Errorf("--timeout must not be negative (0: never), got %s", timeout)
			}
			if runID != "" && len(dsns) > 0 {
				return fmt.Errorf("give --run or --dsn, not both")
			}
			ctx := cmd.Context()
			var targets []verify.Target
			if runID != "" {
				if runID, err = runIDOf(runID); err != nil {
					return err
				}
				cluster, err := harness.Attach(ctx, runID)
				if err != nil {
					return err
				}
				for _, n := range cluster.Nodes {
					targets = append(targets, verify.Target{Name: n.Name, DSN: n.DSN})
				}
				shared = true // our nodes share this machine's engine
			} else {
				targets = verify.TargetsFromDSNs(dsns)
			}
			if len(targets) < 2 {
				return fmt.Errorf("need at least two servers (--dsn, or --run with two nodes up), got %d", len(targets))
			}
			if timeout > 0 {
				var cancel func()
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			rep, err := verify.Convergence(ctx, targets, verify.ConvergenceOptions{Tables: tables, IncludeHarnessSchema: ownSchema, SharedHost: shared})
			if err != nil {
				return fmt.Errorf("verify: %w", err)
			}
			out := verifyOutput{Converged: rep.Converged, Report: rep}
			for _, t := range targets {
				out.Nodes = append(out.Nodes, verifyNode{Name: t.Name, Server: verify.DescribeDSN(t.DSN)})
			}
			if asJSON {
				if err := printJSON(cmd.OutOrStdout(), out); err != nil {
					return err
				}
			} else {
				printConvergence(cmd.OutOrStdout(), out)
			}
			if !rep.Converged {
				return &exitError{code: exitFail}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&dsns, "dsn", nil, "a server to compare (URL or key=value); give two or more")
	cmd.Flags().StringVar(&runID, "run", "", "compare the running nodes of this run id (spockchaos up --detach) instead of --dsn servers")
	cmd.Flags().StringSliceVar(&tables, "tables", nil, "compare only these tables (t or schema.t), comma-separated")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object with per-table results and the differing rows")
	cmd.Flags().BoolVar(&ownSchema, "include-harness", false, "also compare the harness's own schema (spockchaos)")
	cmd.Flags().BoolVar(&shared, "shared-host", false, "the servers share one machine's cores (e.g. a detached spockchaos cluster): hash without parallel workers")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Minute, "give up after this long (0: never)")
	return cmd
}

// runIDOf is arg itself, or the run id in arg/run.json when arg is a
// directory (a run kept with run --keep).
func runIDOf(arg string) (string, error) {
	if st, err := os.Stat(arg); err != nil || !st.IsDir() {
		return arg, nil
	}
	run, err := record.Load(arg)
	if err != nil {
		return "", fmt.Errorf("--run %s: %w", arg, err)
	}
	if run.RunID == "" {
		return "", fmt.Errorf("--run %s: %s names no run_id", arg, filepath.Join(arg, record.RunFile))
	}
	return run.RunID, nil
}

func printConvergence(w io.Writer, out verifyOutput) {
	for _, n := range out.Nodes {
		fmt.Fprintf(w, "%s = %s\n", n.Name, n.Server)
	}
	rep := out.Report
	// The classes first: thousands of rows read as a few lines.
	for _, c := range rep.Classes {
		fmt.Fprintf(w, "divergence: %s (e.g. %s)\n", c.Line, strings.Join(c.Examples, ", "))
	}
	differing := 0
	for _, t := range rep.Tables {
		counts := ""
		if len(t.RowCounts) > 0 {
			counts = " (rows " + rowCountsText(rep.Nodes, t.RowCounts) + ")"
		}
		fmt.Fprintf(w, "%s: %s%s\n", t.Table, tableStatusText(t), counts)
		for _, note := range t.Notes {
			fmt.Fprintf(w, "  note: %s\n", note)
		}
		if t.Status != verify.TableConverged {
			differing++
		}
		for _, r := range t.Rows {
			printVerifyRowDiff(w, r)
		}
		if t.Truncated {
			fmt.Fprintf(w, "  ... %d more differing rows not listed\n", t.DifferingRows-int64(len(t.Rows)))
		}
	}
	if rep.Converged {
		fmt.Fprintf(w, "converged: %s identical on %d nodes (%s)\n", fmt.Sprintf("%d %s", len(rep.Tables), verify.Plural(len(rep.Tables), "table", "tables")), len(rep.Nodes), rep.Elapsed.Round(time.Millisecond))
		return
	}
	fmt.Fprintf(w, "NOT converged: %d of %d tables differ, %d differing rows (%s)\n", differing, len(rep.Tables), rep.DifferingRows, rep.Elapsed.Round(time.Millisecond))
}

func tableStatusText(t verify.TableResult) string {
	switch t.Status {
	case verify.TableMissing:
		return fmt.Sprintf("MISSING on %s", strings.Join(t.MissingOn, ", "))
	case verify.TableDiffers:
		return fmt.Sprintf("DIFFERS, %d rows", t.DifferingRows)
	case verify.TableSchemaDiffers:
		return fmt.Sprintf("SCHEMA DIFFERS, %d differing rows", t.DifferingRows)
	}
	return t.Status
}

func rowCountsText(nodes []string, counts map[string]int64) string {
	var parts []string
	for _, n := range nodes {
		if c, ok := counts[n]; ok {
			parts = append(parts, fmt.Sprintf("%s=%d", n, c))
		}
	}
	return strings.Join(parts, " ")
}

func printVerifyRowDiff(w io.Writer, r verify.RowDiff) {
	what := []string{}
	if len(r.AbsentOn) > 0 {
		what = append(what, "absent on "+strings.Join(r.AbsentOn, ", "))
	}
	if len(r.DifferingColumns) > 0 {
		what = append(what, "differs in "+strings.Join(r.DifferingColumns, ", "))
	}
	fmt.Fprintf(w, "  key %s: %s\n", verifyKeyText(r.KeyColumns, r.Key), strings.Join(what, "; "))
	for _, v := range r.Versions {
		if !v.Present {
			fmt.Fprintf(w, "    %s: (absent)\n", v.Node)
			continue
		}
		cols := r.DifferingColumns
		if len(cols) == 0 {
			cols = verifySortedKeys(v.Values)
		}
		var vals []string
		for _, c := range cols {
			vals = append(vals, c+"="+verifyValueText(v.Values[c]))
		}
		meta := "commit ts unknown"
		if v.CommitTS != nil {
			meta = "committed " + v.CommitTS.UTC().Format("2006-01-02T15:04:05.000000Z")
		}
		if v.Origin != "" {
			meta += ", origin " + v.Origin
		}
		fmt.Fprintf(w, "    %s: %s  [%s]\n", v.Node, strings.Join(vals, " "), meta)
	}
}

func verifyKeyText(cols []string, key map[string]*string) string {
	var parts []string
	for _, k := range cols {
		parts = append(parts, k+"="+verifyValueText(key[k]))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// valueText quotes a value so that NULL, ” and unusual characters show.
func verifyValueText(v *string) string {
	if v == nil {
		return "NULL"
	}
	b, _ := json.Marshal(*v)
	return string(b)
}

func verifySortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
