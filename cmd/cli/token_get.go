package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func tokenGetCmd(a *app, rf *remoteFlags) *cobra.Command {
	var prefix string
	cmd := &cobra.Command{
		Use:   "get --hash PREFIX",
		Short: "Show one token's record and policy (a unique hash prefix is enough)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, done, err := a.manager(cmd, rf)
			if err != nil {
				return err
			}
			defer done()
			r, err := m.Get(cmd.Context(), prefix)
			if err != nil {
				return fmt.Errorf("getting token %q: %w", prefix, err)
			}
			if rf.output == "json" {
				return a.printJSON(r)
			}
			var pretty bytes.Buffer
			if json.Indent(&pretty, r.Policy, "", "  ") != nil {
				pretty.Reset()
				pretty.Write(r.Policy)
			}
			status := "active"
			if r.Expired(time.Now()) {
				status = "expired"
			}
			fmt.Fprintf(a.stdout, "Hash:      %s\nStatus:    %s\nCreated:   %s\nUpdated:   %s\nExpires:   %s\nRevision:  %d\nPolicy:\n%s\n",
				r.Hash, status, r.CreatedAt.UTC().Format(time.RFC3339), r.UpdatedAt.UTC().Format(time.RFC3339),
				fmtExpiry(r.ExpiresAt), r.Revision, pretty.String())
			return nil
		},
	}
	cmd.Flags().StringVar(&prefix, "hash", "", "token hash or a unique prefix of it")
	_ = cmd.MarkFlagRequired("hash")
	return cmd
}
