package cli

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokenomics-dev/tokenomics/core/policy"
	"github.com/tokenomics-dev/tokenomics/core/store"
)

func tokenListCmd(a *app, rf *remoteFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List tokens (hash, role, models, budget, expiry)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, done, err := a.manager(cmd, rf)
			if err != nil {
				return err
			}
			defer done()
			recs, err := m.List(cmd.Context())
			if err != nil {
				return fmt.Errorf("listing tokens: %w", err)
			}
			if rf.output == "json" {
				if recs == nil {
					recs = []store.Record{}
				}
				return a.printJSON(recs)
			}
			return a.printTable(recs, time.Now())
		},
	}
}

func (a *app) printTable(recs []store.Record, now time.Time) error {
	if len(recs) == 0 {
		_, err := fmt.Fprintln(a.stdout, "No tokens.")
		return err
	}
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "HASH\tROLE\tMODELS\tBUDGET\tEXPIRES\tREV")
	for _, r := range recs {
		s := summarize(r.Policy)
		exp := fmtExpiry(r.ExpiresAt)
		if r.Expired(now) {
			exp += " (expired)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\n", r.Hash[:min(16, len(r.Hash))], s.role, s.models, s.budget, exp, r.Revision)
	}
	return w.Flush()
}

type policySummary struct{ role, models, budget string }

// summarize reads only what the table shows. The stored policy was validated
// when written; should it not parse now, the row shows dashes.
func summarize(raw json.RawMessage) policySummary {
	p, err := policy.Parse(raw)
	if err != nil {
		return policySummary{"-", "-", "-"}
	}
	s := policySummary{role: "-", models: "any", budget: "unlimited"}
	if r := p.Metadata["role"]; r != "" {
		s.role = r
	}
	switch {
	case len(p.Providers) > 0:
		names := make([]string, 0, len(p.Providers))
		for _, g := range p.Providers {
			names = append(names, g.Name)
		}
		s.models = "providers: " + strings.Join(names, ",")
	case p.Model != "":
		s.models = p.Model
	case p.ModelRegex != "":
		s.models = "/" + p.ModelRegex + "/"
	}
	if p.MaxTokens > 0 {
		s.budget = strconv.FormatInt(p.MaxTokens, 10)
	}
	return s
}
