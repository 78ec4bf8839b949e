package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spockchaos/spockchaos/capability"
	"github.com/spockchaos/spockchaos/harness"
	"github.com/spockchaos/spockchaos/scenarios"
)

func init() { commands = append(commands, newDoctorCmd) }

// doctorOutput is what `doctor --json` prints: the probe's report, and
// which fault kinds and catalog scenarios the image can run.
type doctorOutput struct {
	*capability.Report
	FaultKinds []scenarios.CanRun `json:"fault_kinds"`
	Scenarios  []scenarios.CanRun `json:"scenarios"`
}

func newDoctorCmd() *cobra.Command {
	var (
		flavorName, image string
		pg                int
		asJSON            bool
	)
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Start one node of an image and say what spockchaos can do with it",
		Long: `Starts one node of the image (labelled like every run, removed at the end
and on Ctrl-C) and prints the PostgreSQL and Spock/pglogical versions, the
settings the harness sets, the recovery APIs found, the user the server
runs as, the capabilities, and which fault kinds and catalog scenarios can
run on the image (and why not). --json prints one object for CI.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := refuseExplicitZero(cmd, "pg"); err != nil {
				return err
			}
			flavor, err := harness.LookupFlavor(flavorName)
			if err != nil {
				return err
			}
			if err := harness.CheckMajor(flavor, image, pg); err != nil {
				return err
			}
			if image == "" {
				image = harness.ImageFor(flavor, pg)
			}
			if image == "" {
				return fmt.Errorf("flavor %s has no default image: name one with --image", flavorName)
			}
			progress := func(s string) { fmt.Fprintln(cmd.ErrOrStderr(), s) }
			rep, err := capability.Probe(cmd.Context(), flavorName, image, pg, progress)
			if err != nil {
				return err
			}
			out := doctorOutput{Report: rep, FaultKinds: scenarios.FaultKinds(rep.Have, image),
				Scenarios: scenarios.CatalogOn(rep.Have, image, scenarios.Options{Flavor: flavorName, Image: image, PG: pg})}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			printDoctor(cmd.OutOrStdout(), out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&flavorName, "flavor", "pglogical", "replication flavor: pglogical or spock")
	f.StringVar(&image, "image", "", "node image (default: the flavor's; never pulled)")
	f.IntVar(&pg, "pg", 0, "PostgreSQL major of pglogical's built image: 15, 17 (default) or 18; with --image, that image's major")
	f.BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

func printDoctor(w io.Writer, out doctorOutput) {
	r := out.Report
	fmt.Fprintf(w, "image: %s (%s)\n", r.Image.Ref, r.Image.ID)
	fmt.Fprintf(w, "  user %q, entrypoint %v, cmd %v\n", r.Image.User, r.Image.Entrypoint, r.Image.Cmd)
	fmt.Fprintf(w, "postgresql: %s (server_version_num %d)\n", r.Version, r.VersionNum)
	fmt.Fprintf(w, "server runs as: %s\n", r.ServerUser)
	if len(r.Extensions) == 0 {
		fmt.Fprintln(w, "extensions: neither pglogical nor spock is available")
	}
	for _, e := range r.Extensions {
		fmt.Fprintf(w, "extension %s: %s available", e.Name, e.Default)
		if e.Installed != "" {
			fmt.Fprintf(w, ", %s installed", e.Installed)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "recovery API: %s\n", apiOrNone(r.RecoveryAPI))
	fmt.Fprintf(w, "settings the harness sets at start (flavor %s, %d nodes):\n", r.Flavor, harness.DefaultNodes)
	for _, k := range r.SettingNames() {
		fmt.Fprintf(w, "  %s = %s\n", k, r.Settings[k])
	}
	for k, items := range r.ListSettings {
		fmt.Fprintf(w, "  %s holds %s (set at run time)\n", k, strings.Join(items, ", "))
	}
	fmt.Fprintln(w, "capabilities:")
	for _, c := range capability.All {
		a := r.Have[c]
		state := "unknown"
		if a.Known && a.OK {
			state = "yes"
		} else if a.Known {
			state = "no"
		}
		fmt.Fprintf(w, "  %-20s %-7s %s\n", c, state, a.Why)
	}
	printCanRun(w, "fault kinds", out.FaultKinds)
	printCanRun(w, "catalog scenarios", out.Scenarios)
}

func printCanRun(w io.Writer, title string, list []scenarios.CanRun) {
	yes := 0
	for _, c := range list {
		if c.Runs == "yes" {
			yes++
		}
	}
	fmt.Fprintf(w, "%s: %d of %d run\n", title, yes, len(list))
	for _, c := range list {
		fmt.Fprintf(w, "  %-32s %-7s %s\n", c.Name, c.Runs, c.Why)
	}
}

func apiOrNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
