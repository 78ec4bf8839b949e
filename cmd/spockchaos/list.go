package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/spockchaos/spockchaos/scenarios"
)

func init() { commands = append(commands, newListCmd) }

type listEntry struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Labels      []string `json:"labels"`
	Nodes       int      `json:"nodes"`
	Workload    string   `json:"workload"`
	Recovery    string   `json:"recovery"`
	Expect      string   `json:"expect"`
	Timeout     string   `json:"timeout"`
}

func newListCmd() *cobra.Command {
	var (
		label  string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list [PATTERN]",
		Short: "List the scenario catalog (by name, regular expression or --label)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pattern := ""
			if len(args) == 1 {
				pattern = args[0]
			}
			specs, err := scenarios.Select(pattern, label)
			if err != nil {
				return err
			}
			var entries []listEntry
			for _, s := range specs {
				entries = append(entries, listEntry{Name: s.Name, Description: s.Description, Labels: s.Labels, Nodes: s.Nodes,
					Workload: s.Workload, Recovery: s.Recovery, Expect: string(s.Expect), Timeout: s.Timeout.String()})
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(entries)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tLABELS\tNODES\tWORKLOAD\tRECOVERY\tEXPECT\tDESCRIPTION")
			for _, e := range entries {
				fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", e.Name, strings.Join(e.Labels, ","), e.Nodes, e.Workload, e.Recovery, e.Expect, e.Description)
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&label, "label", "", "only scenarios with this label (gate, nightly, release)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	return cmd
}
