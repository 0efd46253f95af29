package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokenomics-dev/tokenomics/core/tokenapi"
)

func tokenUpdateCmd(a *app, rf *remoteFlags) *cobra.Command {
	var prefix, policyArg, expires string
	var replace bool
	cmd := &cobra.Command{
		Use:   "update --hash PREFIX [--policy JSON|@file] [--replace] [--expires 180d|RFC3339|clear]",
		Short: "Change a token's policy (JSON merge patch) or expiry",
		Long: `--policy applies an RFC 7386 JSON merge patch to the stored policy: only the
fields given change, null removes a field. --replace swaps the whole policy.
--expires sets a new lifetime counted from now, an RFC 3339 time, or "clear".`,
		Example: `  tokenomics token update --hash 3fa9 --policy '{"max_tokens": 100000}'
  tokenomics token update --hash 3fa9 --expires 180d`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var req tokenapi.UpdateRequest
			if policyArg != "" {
				raw, err := readPolicyArg(policyArg)
				if err != nil {
					return err
				}
				req.Policy, req.Replace = raw, replace
			} else if replace {
				return errors.New("--replace needs --policy")
			}
			exp, clear, err := parseExpiry(expires, time.Now(), true)
			if err != nil {
				return err
			}
			req.ExpiresAt, req.ClearExpiry = exp, clear
			if req.Policy == nil && exp == nil && !clear {
				return errors.New("nothing to update: give --policy and/or --expires")
			}
			m, done, err := a.manager(cmd, rf)
			if err != nil {
				return err
			}
			defer done()
			r, err := m.Update(cmd.Context(), prefix, req)
			if err != nil {
				return fmt.Errorf("updating token %q: %w", prefix, err)
			}
			if rf.output == "json" {
				return a.printJSON(r)
			}
			fmt.Fprintf(a.stdout, "Updated %s (revision %d, expires %s)\n", r.Hash, r.Revision, fmtExpiry(r.ExpiresAt))
			return nil
		},
	}
	cmd.Flags().StringVar(&prefix, "hash", "", "token hash or a unique prefix of it")
	cmd.Flags().StringVar(&policyArg, "policy", "", "merge patch JSON (or the whole policy with --replace), or @file.json")
	cmd.Flags().BoolVar(&replace, "replace", false, "replace the whole policy instead of patching it")
	cmd.Flags().StringVar(&expires, "expires", "", "new lifetime (180d, 1y), RFC 3339 time, or clear")
	_ = cmd.MarkFlagRequired("hash")
	return cmd
}
