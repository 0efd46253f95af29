package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokenomics-dev/tokenomics/core/fleet"
)

func pluginStatusCmd(a *app) *cobra.Command {
	rf := &registryFlags{}
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status --remote URL",
		Short: "Show, per proxy, which version of each plugin is active and how many tokens use it",
		Long: `Shows what every proxy synced from the central server last reported
(GET /api/v1/fleet): its token revision and lag behind the central server,
whether it is ready, and for each plugin the version it runs, its state
(active, loading or failed, with the cause) and how many tokens use it.

Proxies report at start, right after each sync and every
remote.fleet_interval (default 15s); LAST CONTACT says how old a report is.
A proxy that stopped reporting stays listed with its last report.`,
		Example: `  tokenomics plugin status --remote http://central:9090
  tokenomics plugin status --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asJSON {
				rf.output = "json"
			}
			url, key, hc, err := a.central(cmd, rf)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			st, err := fleet.NewClient(url, key, hc).Status(ctx)
			if err != nil {
				return fmt.Errorf("reading the fleet: %w", err)
			}
			if rf.output == "json" {
				return a.printJSON(st)
			}
			return a.printFleet(st)
		},
	}
	rf.add(cmd, true)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the central server's answer as JSON (same as -o json)")
	return cmd
}

// printFleet writes one line per proxy and plugin version.
func (a *app) printFleet(st fleet.Status) error {
	fmt.Fprintf(a.stdout, "Central revision %d, %d proxies\n", st.Revision, len(st.Proxies))
	if len(st.Proxies) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROXY\tINSTANCE\tREADY\tLAG\tLAST CONTACT\tPLUGIN\tVERSION\tTOKENS\tSHA256\tSTATE")
	for _, p := range st.Proxies {
		ago := time.Since(p.LastContact).Round(time.Second).String() + " ago"
		lead := fmt.Sprintf("%s\t%s\t%t\t%d\t%s", p.Name, p.Instance, p.Ready, p.Lag, ago)
		if len(p.Plugins) == 0 {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\n", lead)
			continue
		}
		for _, pl := range p.Plugins {
			state := pl.State
			if pl.Error != "" {
				state += ": " + pl.Error
			}
			sha := pl.SHA256
			if len(sha) > 12 {
				sha = sha[:12]
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", lead, pl.Name, pl.Version, pl.Tokens, sha, state)
		}
	}
	return tw.Flush()
}
