package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func pluginListCmd(a *app) *cobra.Command {
	rf := &registryFlags{}
	cmd := &cobra.Command{
		Use:     "list --remote URL",
		Short:   "List the plugins the central server holds",
		Example: `  tokenomics plugin list --remote http://central:9090`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.registry(cmd, rf)
			if err != nil {
				return err
			}
			l, err := c.List(cmd.Context())
			if err != nil {
				return fmt.Errorf("listing plugins: %w", err)
			}
			if rf.output == "json" {
				return a.printJSON(l)
			}
			if len(l.Plugins) == 0 {
				fmt.Fprintf(a.stdout, "No plugins (registry revision %d)\n", l.Revision)
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVERSION\tSHA256\tSIZE\tSIGNERS\tUPLOADED")
			for _, e := range l.Plugins {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", e.Name, e.Version, e.SHA256, e.Size,
					strings.Join(e.Signers, ","), e.UploadedAt.Format("2006-01-02 15:04:05Z07:00"))
			}
			return tw.Flush()
		},
	}
	rf.add(cmd, true)
	return cmd
}
