package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/spockchaos/spockchaos/docker"
	"github.com/spockchaos/spockchaos/record"
)

func init() { commands = append(commands, newVersionCmd) }

// versionText is what `spockchaos version` and `spockchaos --version`
// print: the tool's version (the same string run.json and campaign cells
// record), the Go toolchain and the default node image tag.
func versionText() string {
	return fmt.Sprintf("spockchaos %s\ngo: %s %s/%s\ndefault node image: %s\n",
		record.SpockchaosVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH, docker.DefaultImage())
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the tool's version, its Go version and the default node image tag",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			fmt.Fprint(c.OutOrStdout(), versionText())
			return nil
		},
	}
}
