package main

import (
	"log/slog"
	"os"

	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	var verbose bool
	root := &cobra.Command{
		Use:           "spockchaos",
		Short:         "Chaos and verification harness for multi-master PostgreSQL (Spock, pglogical)",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			level := slog.LevelInfo
			if verbose {
				level = slog.LevelDebug
			}
			// Logs go to stderr: stdout is kept for results (--json).
			slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
		},
	}
	root.PersistentFlags().BoolVarP(&verbose, "verbose", "v", false, "debug logging")
	for _, newCmd := range commands {
		root.AddCommand(newCmd())
	}
	return root
}

// commands are the top-level commands; each command's file registers its
// constructor in an init func, so commands live in files of their own.
var commands []func() *cobra.Command

// benchCommands are the subcommands of `spockchaos bench`, registered the
// same way.
var benchCommands []func() *cobra.Command
