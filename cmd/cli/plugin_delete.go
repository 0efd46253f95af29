package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func pluginDeleteCmd(a *app) *cobra.Command {
	rf := &registryFlags{}
	cmd := &cobra.Command{
		Use:   "delete SHA256 --remote URL",
		Short: "Remove a plugin binary from the central server",
		Long: `Removes one version (named by its sha256) from the central server and pushes
plugin.deleted. Proxies withdraw it; tokens whose rules use it are refused
until a newer version is pushed and their policies name it (proxies never go
back to a lower version than they had).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.registry(cmd, rf)
			if err != nil {
				return err
			}
			e, err := c.Delete(cmd.Context(), args[0])
			if err != nil {
				return fmt.Errorf("deleting plugin %s: %w", args[0], err)
			}
			if rf.output == "json" {
				e.Manifest = nil
				return a.printJSON(e)
			}
			fmt.Fprintf(a.stdout, "Deleted %s@%s (%s)\n", e.Name, e.Version, e.SHA256)
			return nil
		},
	}
	rf.add(cmd, true)
	return cmd
}
