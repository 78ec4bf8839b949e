package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/spockchaos/spockchaos/docker"
)

func init() { commands = append(commands, newImageCmd) }

func newImageCmd() *cobra.Command {
	var (
		printTag bool
		major    int
	)
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Build the default node image if it is missing (offline: debootstrap + docker import)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := docker.CheckMajor(major); err != nil {
				return err
			}
			if printTag {
				fmt.Fprintln(cmd.OutOrStdout(), docker.ImageFor(major))
				return nil
			}
			tag, err := docker.EnsureImage(cmd.Context(), major, os.Stderr)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tag)
			return nil
		},
	}
	cmd.Flags().BoolVar(&printTag, "tag", false, "print the image tag of the current recipe and exit")
	cmd.Flags().IntVar(&major, "pg", docker.DefaultMajor, "PostgreSQL major of the image: "+docker.MajorNames())
	return cmd
}
