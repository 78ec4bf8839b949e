package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/spockchaos/spockchaos/harness"
)

// clusterFlags are the flags every command that starts a cluster shares.
type clusterFlags struct {
	nodes   int
	flavor  string
	image   string
	pg      int
	timeout time.Duration
	sets    []string
	cmd     *cobra.Command
}

func (f *clusterFlags) register(cmd *cobra.Command) {
	f.cmd = cmd
	cmd.Flags().IntVar(&f.nodes, "nodes", harness.DefaultNodes, fmt.Sprintf("number of nodes (%d..%d)", harness.MinNodes, harness.MaxNodes))
	cmd.Flags().StringVar(&f.flavor, "flavor", "pglogical", "replication flavor: pglogical or spock")
	cmd.Flags().StringVar(&f.image, "image", "", "node image (default: the flavor's; spock needs one; never pulled)")
	cmd.Flags().IntVar(&f.pg, "pg", 0, "PostgreSQL major of pglogical's built image: 15, 17 (default) or 18; with --image, that image's major")
	cmd.Flags().DurationVar(&f.timeout, "ready-timeout", 2*time.Minute, "how long to wait for replication and the barrier")
	registerSet(cmd.Flags(), &f.sets)
}

func (f *clusterFlags) config() (harness.Config, error) {
	if f.nodes < harness.MinNodes || f.nodes > harness.MaxNodes {
		return harness.Config{}, fmt.Errorf("--nodes must be between %d and %d, got %d", harness.MinNodes, harness.MaxNodes, f.nodes)
	}
	if f.timeout <= 0 {
		return harness.Config{}, fmt.Errorf("--ready-timeout must be positive, got %s", f.timeout)
	}
	flavor, err := harness.LookupFlavor(f.flavor)
	if err != nil {
		return harness.Config{}, fmt.Errorf("--flavor: %w", err)
	}
	if err := refuseExplicitZero(f.cmd, "pg"); err != nil {
		return harness.Config{}, err
	}
	if err := harness.CheckMajor(flavor, f.image, f.pg); err != nil {
		return harness.Config{}, err
	}
	settings, err := parseSets(f.sets)
	if err != nil {
		return harness.Config{}, err
	}
	if err := harness.CheckSettings(flavor, f.nodes, settings); err != nil {
		return harness.Config{}, fmt.Errorf("--set: %w", err)
	}
	return harness.Config{Nodes: f.nodes, Flavor: flavor, Image: f.image, PGMajor: f.pg, ReadyTimeout: f.timeout, Progress: os.Stderr,
		Settings: settings}, nil
}

func init() { commands = append(commands, newUpCmd) }

// upOutput is what `up --json` prints: exactly one object on stdout.
type upOutput struct {
	RunID  string       `json:"run_id"`
	Flavor string       `json:"flavor"`
	Image  string       `json:"image"`
	Nodes  []nodeOutput `json:"nodes"`
}

type nodeOutput struct {
	Name string `json:"name"`
	DSN  string `json:"dsn"`
}

func newUpCmd() *cobra.Command {
	var (
		cf         clusterFlags
		schemaFile string
		detach     bool
		asJSON     bool
	)
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start a replicated cluster; hold it until Ctrl-C, or leave it up with --detach",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := cf.config()
			if err != nil {
				return err
			}
			if schemaFile != "" {
				schema, err := os.ReadFile(schemaFile)
				if err != nil {
					return fmt.Errorf("--schema: %w", err)
				}
				cfg.Schema = string(schema)
			}
			cfg.Detached = detach
			ctx := cmd.Context()
			cluster, err := harness.Start(ctx, cfg)
			if err != nil {
				return err
			}
			out := upOutput{RunID: cluster.RunID, Flavor: cluster.Flavor.Name(), Image: cluster.Image}
			for _, n := range cluster.Nodes {
				out.Nodes = append(out.Nodes, nodeOutput{Name: n.Name, DSN: n.DSN})
			}
			if asJSON {
				if err := printJSON(cmd.OutOrStdout(), out); err != nil {
					return err
				}
			} else {
				printConnectInfo(cmd.OutOrStdout(), out, detach)
			}
			if detach {
				return nil
			}
			<-ctx.Done()
			// Remove first, then say so: printing to a closed pipe must not
			// be able to stop the cleanup.
			err = cluster.Remove(context.WithoutCancel(ctx))
			fmt.Fprintln(cmd.ErrOrStderr(), "removed cluster", cluster.RunID)
			return err
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&schemaFile, "schema", "", "SQL file applied on every node; its tables are replicated")
	cmd.Flags().BoolVar(&detach, "detach", false, "leave the cluster up and exit")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object {run_id, nodes:[{name,dsn}]} on stdout")
	return cmd
}

// printJSON writes v as one JSON line; DSNs keep their '&' readable.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func printConnectInfo(w io.Writer, out upOutput, detached bool) {
	fmt.Fprintf(w, "cluster %s is ready (%s, %d nodes)\n", out.RunID, out.Flavor, len(out.Nodes))
	for _, n := range out.Nodes {
		fmt.Fprintf(w, "  %s  psql '%s'\n", n.Name, n.DSN)
	}
	if detached {
		fmt.Fprintf(w, "remove it with: spockchaos down %s\n", out.RunID)
	} else {
		fmt.Fprintln(w, "press Ctrl-C to remove it")
	}
}
