package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokenomics-dev/tokenomics/core/tokenapi"
)

func tokenCreateCmd(a *app, rf *remoteFlags) *cobra.Command {
	var policyArg, expires string
	cmd := &cobra.Command{
		Use:   "create --policy JSON|@file.json [--expires 24h|7d|90d|1y|RFC3339]",
		Short: "Create a token; the token is printed once and never stored",
		Example: `  tokenomics token create --policy @policies/developer.json --expires 90d
  tokenomics token create --policy '{"model":"gpt-4o-mini","max_tokens":50000}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			raw, err := readPolicyArg(policyArg)
			if err != nil {
				return err
			}
			exp, _, err := parseExpiry(expires, time.Now(), false)
			if err != nil {
				return err
			}
			m, done, err := a.manager(cmd, rf)
			if err != nil {
				return err
			}
			defer done()
			c, err := m.Create(cmd.Context(), tokenapi.CreateRequest{Policy: raw, ExpiresAt: exp})
			if err != nil {
				return fmt.Errorf("creating token: %w", err)
			}
			if rf.output == "json" {
				return a.printJSON(c)
			}
			fmt.Fprintf(a.stdout, "Token:    %s\nHash:     %s\nExpires:  %s\n", c.Token, c.Record.Hash, fmtExpiry(c.Record.ExpiresAt))
			fmt.Fprintln(a.stdout, "Save the token now: only its hash is stored and it cannot be shown again.")
			return nil
		},
	}
	cmd.Flags().StringVar(&policyArg, "policy", "", "policy JSON, or @file.json")
	cmd.Flags().StringVar(&expires, "expires", "", "lifetime (24h, 7d, 90d, 1y) or RFC 3339 time; default never")
	_ = cmd.MarkFlagRequired("policy")
	return cmd
}

func fmtExpiry(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}
