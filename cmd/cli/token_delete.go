package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func tokenDeleteCmd(a *app, rf *remoteFlags) *cobra.Command {
	var prefix string
	cmd := &cobra.Command{
		Use:   "delete --hash PREFIX",
		Short: "Revoke a token at once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, done, err := a.manager(cmd, rf)
			if err != nil {
				return err
			}
			defer done()
			r, err := m.Delete(cmd.Context(), prefix)
			if err != nil {
				return fmt.Errorf("deleting token %q: %w", prefix, err)
			}
			if rf.output == "json" {
				return a.printJSON(r)
			}
			fmt.Fprintf(a.stdout, "Deleted %s\n", r.Hash)
			return nil
		},
	}
	cmd.Flags().StringVar(&prefix, "hash", "", "token hash or a unique prefix of it")
	_ = cmd.MarkFlagRequired("hash")
	return cmd
}
