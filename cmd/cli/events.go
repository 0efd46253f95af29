package cli

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokenomics-dev/tokenomics/central"
	"github.com/tokenomics-dev/tokenomics/core/events"
)

func init() { register(eventsCmd) }

type eventsOptions struct {
	since, format  string
	types          []string
	follow         bool
	limit          int
	poll           time.Duration
	remote, apiKey string
}

func eventsCmd(a *app) *cobra.Command {
	eo := &eventsOptions{}
	cmd := &cobra.Command{
		Use:   "events",
		Short: "List (and follow) the events proxies sent to the central server",
		Long: `Lists the events central received from proxies: rule violations and masks,
budget and rate refusals, expired tokens, completed requests, whatever each
proxy's events.webhooks sends to central's /webhook. Central verifies every
delivery's signature and keeps events for events.receiver.retention.

--follow keeps printing new events as they arrive (it asks central every
--poll) until interrupted. The json format prints one event per line.`,
		Example: `  tokenomics events --since 1h
  tokenomics events --type 'rule.*' --type budget.exceeded --follow
  tokenomics events --follow --format json | jq .event.type`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if eo.format != "table" && eo.format != "json" {
				return fmt.Errorf("--format: must be table or json, not %q", eo.format)
			}
			for _, t := range eo.types {
				if err := events.ValidPattern(t); err != nil {
					return fmt.Errorf("--type: %w", err)
				}
			}
			if _, err := central.ParseSince(eo.since, time.Now()); err != nil {
				return fmt.Errorf("--since: %w", err)
			}
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			base := firstNonEmpty(eo.remote, cfg.Remote.FirstURL())
			if base == "" {
				return fmt.Errorf("no central server: give --remote URL or set remote.url")
			}
			key := firstNonEmpty(eo.apiKey, a.getenv(remoteKeyEnv), cfg.RemoteAPIKey())
			return a.streamEvents(cmd, base, key, eo)
		},
	}
	f := cmd.Flags()
	f.StringVar(&eo.since, "since", "24h", "start: a duration back from now (1h, 7d), a date or an RFC 3339 time")
	f.StringArrayVar(&eo.types, "type", nil, "only these event types; patterns like 'rule.*' (repeatable)")
	f.BoolVarP(&eo.follow, "follow", "f", false, "keep printing new events until interrupted")
	f.IntVar(&eo.limit, "limit", 0, "print at most this many events (0: all), without --follow")
	f.DurationVar(&eo.poll, "poll", time.Second, "how often --follow asks central for new events")
	f.StringVar(&eo.format, "format", "table", "table or json (one event per line)")
	f.StringVar(&eo.remote, "remote", "", "central server URL (default: remote.url from config)")
	f.StringVar(&eo.apiKey, "api-key", "", "central server API key; visible in ps, prefer $"+remoteKeyEnv+" or remote.api_key_env")
	return cmd
}

type eventPage struct {
	Events []central.StoredEvent `json:"events"`
	Last   uint64                `json:"last"`
}

func (a *app) streamEvents(cmd *cobra.Command, base, key string, eo *eventsOptions) error {
	since, _ := central.ParseSince(eo.since, time.Now())
	var after uint64
	printed := 0
	header := false
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	for {
		q := url.Values{"after": {strconv.FormatUint(after, 10)}, "type": eo.types}
		if after == 0 {
			q.Set("since", since.UTC().Format(time.RFC3339))
		}
		var page eventPage
		if err := getCentral(cmd, base, key, "/api/v1/events?"+q.Encode(), &page); err != nil {
			if eo.follow && cmd.Context().Err() != nil {
				return nil
			}
			return err
		}
		for _, e := range page.Events {
			if !eo.follow && eo.limit > 0 && printed >= eo.limit {
				break
			}
			printed++
			if eo.format == "json" {
				b, _ := json.Marshal(e)
				fmt.Fprintln(a.stdout, string(b))
				continue
			}
			if !header {
				fmt.Fprintln(w, "SEQ\tRECEIVED\tTYPE\tSOURCE\tDATA")
				header = true
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", e.Seq, e.Received.Format(time.RFC3339), e.Event.Type,
				e.Event.Source, summary(e.Event.Data))
		}
		_ = w.Flush()
		if page.Last > after {
			after = page.Last
		}
		if len(page.Events) > 0 && (eo.follow || eo.limit == 0 || printed < eo.limit) {
			continue // a full page may have more behind it
		}
		if !eo.follow {
			if printed == 0 && eo.format == "table" {
				fmt.Fprintln(a.stdout, "No events.")
			}
			return nil
		}
		select {
		case <-cmd.Context().Done():
			return nil
		case <-time.After(eo.poll):
		}
	}
}

// summary is an event's data on one line, cut to fit a terminal.
func summary(data json.RawMessage) string {
	s := strings.Join(strings.Fields(string(data)), " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}
