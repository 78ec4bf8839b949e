package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spockchaos/spockchaos/record"
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
			// Logs go to stderr (stdout is kept for results, --json)
			// through slog's default handler, the one the test suites
			// log through too, so a run's and a test's lines read alike.
			slog.SetLogLoggerLevel(level)
		},
	}
	// Bare `spockchaos` is bad input too (exit 2, one line), not a help
	// page with exit 0; --help prints the help.
	root.RunE = func(*cobra.Command, []string) error {
		return errors.New("give a command (spockchaos --help lists them)")
	}
	root.PersistentFlags().BoolVarP(&verbose, "verbose", "v", false, "debug logging")
	root.Version = record.SpockchaosVersion()
	root.SetVersionTemplate(versionText())
	root.SetFlagErrorFunc(flagError)
	for _, newCmd := range commands {
		root.AddCommand(newCmd())
	}
	root.SetHelpCommand(newHelpCmd(root))
	return root
}

// flagError names the command and where its flags are listed in a flag
// error: "run: unknown flag --sed (spockchaos run --help)". Subcommands
// inherit it from the root.
func flagError(c *cobra.Command, err error) error {
	msg := strings.Replace(err.Error(), "unknown flag: ", "unknown flag ", 1)
	msg = strings.Replace(msg, "unknown shorthand flag: ", "unknown shorthand flag ", 1)
	if c.HasParent() {
		msg = strings.TrimPrefix(c.CommandPath(), c.Root().Name()+" ") + ": " + msg
	}
	return fmt.Errorf("%s (%s --help)", msg, c.CommandPath())
}

// groupCommand makes cmd, a command that only holds subcommands, refuse a
// missing or unknown subcommand with exit 2 (cobra would print the help and
// exit 0).
func groupCommand(cmd *cobra.Command) *cobra.Command {
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(c *cobra.Command, args []string) error {
		var names []string
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				names = append(names, sub.Name())
			}
		}
		if len(args) == 0 {
			return fmt.Errorf("%s: give a subcommand: %s", c.CommandPath(), strings.Join(names, ", "))
		}
		return fmt.Errorf("%s: unknown subcommand %q (want one of %s)", c.CommandPath(), args[0], strings.Join(names, ", "))
	}
	return cmd
}

// newHelpCmd is `spockchaos help [COMMAND...]`; an unknown topic is bad
// input (cobra's own help command says so but exits 0).
func newHelpCmd(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND...]",
		Short: "Help about any command",
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 {
				return fmt.Errorf("help: unknown command %q (spockchaos --help lists them)", strings.Join(args, " "))
			}
			target.SetOut(c.OutOrStdout())
			return target.Help()
		},
	}
}

// commands are the top-level commands; each command's file registers its
// constructor in an init func, so commands live in files of their own.
var commands []func() *cobra.Command

// benchCommands are the subcommands of `spockchaos bench`, registered the
// same way.
var benchCommands []func() *cobra.Command
