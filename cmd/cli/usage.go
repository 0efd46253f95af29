package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/tokenomics-dev/tokenomics/central"
	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/rollup"
	"github.com/tokenomics-dev/tokenomics/core/tokenapi"
)

func init() { register(usageCmd) }

type usageOptions struct {
	by, since, format string
	remote, apiKey    string
	local             bool
}

// usageReport is what every output format shows.
type usageReport struct {
	By     string             `json:"by"`
	Since  time.Time          `json:"since"`
	Source string             `json:"source"`
	Rows   []rollup.ReportRow `json:"rows"`
}

func usageCmd(a *app) *cobra.Command {
	uo := &usageOptions{}
	cmd := &cobra.Command{
		Use:   "usage",
		Short: "Report requests, tokens, cost and refusals by token, model, provider or day",
		Long: `Reports the usage rollups proxies keep per token, model, provider and minute:
requests, input tokens (cached ones among them), output tokens (reasoning ones
among them), cost in USD when prices are known, and refusals.

Online (--remote URL, or remote.url in config.yaml) it asks the central
server, which holds the rollups of every proxy (proxies send them every
usage.interval). With --local it reads this machine's proxy file instead
(storage.db_path, or its .proxy copy when remote.url is set); while a proxy
runs on that file the report comes through its loopback admin endpoint (the
discovery file beside the database), with the requests it has not written
yet.

Tokens are shown by their hash prefix, days in UTC.`,
		Example: `  tokenomics usage --by model --since 7d
  tokenomics usage --by day --since 2026-12-01 --format csv
  tokenomics usage --local --by token --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !validDimension(uo.by) {
				return fmt.Errorf("--by: must be one of %s, not %q", strings.Join(rollup.Dimensions, ", "), uo.by)
			}
			if uo.format != "table" && uo.format != "csv" && uo.format != "json" {
				return fmt.Errorf("--format: must be table, csv or json, not %q", uo.format)
			}
			since, err := central.ParseSince(uo.since, time.Now())
			if err != nil {
				return fmt.Errorf("--since: %w", err)
			}
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			var rep usageReport
			if u := firstNonEmpty(uo.remote, cfg.Remote.FirstURL()); u != "" && !uo.local {
				key := firstNonEmpty(uo.apiKey, a.getenv(remoteKeyEnv), cfg.RemoteAPIKey())
				rep, err = remoteUsage(cmd, u, key, uo.by, since)
			} else {
				rep, err = localUsage(cmd, withProxyStore(cfg).Storage.DBPath, uo.by, since)
			}
			if err != nil {
				return err
			}
			return a.printUsage(&rep, uo.format)
		},
	}
	f := cmd.Flags()
	f.StringVar(&uo.by, "by", rollup.ByModel, "group by token, model, provider or day")
	f.StringVar(&uo.since, "since", "24h", "start: a duration back from now (24h, 7d), a date (2006-01-02) or an RFC 3339 time")
	f.StringVar(&uo.format, "format", "table", "table, csv or json")
	f.StringVar(&uo.remote, "remote", "", "central server URL (default: remote.url from config)")
	f.StringVar(&uo.apiKey, "api-key", "", "central server API key; visible in ps, prefer $"+remoteKeyEnv+" or remote.api_key_env")
	f.BoolVar(&uo.local, "local", false, "read this machine's proxy file instead of asking central")
	return cmd
}

func validDimension(by string) bool {
	for _, d := range rollup.Dimensions {
		if by == d {
			return true
		}
	}
	return false
}

func remoteUsage(cmd *cobra.Command, base, key, by string, since time.Time) (usageReport, error) {
	q := url.Values{"by": {by}, "since": {since.UTC().Format(time.RFC3339)}}
	var rep usageReport
	if err := getCentral(cmd, base, key, rollup.Path+"?"+q.Encode(), &rep); err != nil {
		return rep, err
	}
	rep.Source = redactedURL(base)
	return rep, nil
}

// getCentral GETs path from central into v, with central's error message
// when it refuses.
func getCentral(cmd *cobra.Command, base, key, path string, v any) error {
	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, strings.TrimRight(base, "/")+path, nil)
	if err != nil {
		return fmt.Errorf("central server URL: %w", err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("asking the central server: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		if resp.StatusCode == http.StatusUnauthorized {
			return fmt.Errorf("the central server refused the API key (give --api-key or $%s)", remoteKeyEnv)
		}
		return fmt.Errorf("the central server answered %d: %s", resp.StatusCode, e.Error.Message)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("reading the central server's answer: %w", err)
	}
	return nil
}

// localUsage reads the proxy file at path: through the running proxy's
// local admin endpoint when it announces one (it holds the file), else
// the file itself.
// getLocalAdmin GETs path from a running server's local admin endpoint
// into v.
func getLocalAdmin(cmd *cobra.Command, d tokenapi.Discovery, path string, v any) error {
	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, "http://"+d.Addr+path, nil)
	if err != nil {
		return fmt.Errorf("local admin endpoint: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+d.Secret)
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("asking the running proxy's local admin endpoint %s: %w", d.Addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		if resp.StatusCode == http.StatusNotFound {
			return fmt.Errorf("the running server at %s serves no usage report (an older version, or a central server): stop it, or ask the central server (--remote URL)", d.Addr)
		}
		return fmt.Errorf("the running proxy answered %d: %s", resp.StatusCode, e.Error.Message)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("reading the running proxy's answer: %w", err)
	}
	return nil
}

func localUsage(cmd *cobra.Command, path, by string, since time.Time) (usageReport, error) {
	rep := usageReport{By: by, Since: since.UTC(), Source: path}
	if d, err := tokenapi.ReadDiscovery(path); err == nil {
		q := url.Values{"by": {by}, "since": {since.UTC().Format(time.RFC3339)}}
		if err := getLocalAdmin(cmd, d, rollup.Path+"?"+q.Encode(), &rep); err != nil {
			return rep, err
		}
		rep.Source = path + " (running proxy)"
		return rep, nil
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 500 * time.Millisecond})
	if errors.Is(err, berrors.ErrTimeout) {
		return rep, fmt.Errorf("%s is held by a running process that announces no local admin endpoint (%s): stop it, or ask the central server (--remote URL)",
			path, tokenapi.DiscoveryPath(path))
	}
	if err != nil {
		return rep, fmt.Errorf("opening %s: %w", path, err)
	}
	defer db.Close()
	st, err := rollup.NewBoltStore(db, rollup.LocalBucket)
	if err != nil {
		return rep, err
	}
	rows, err := st.Query(context.Background(), since)
	if err != nil {
		return rep, err
	}
	rep.Rows, err = rollup.Report(rows, by, events.HashPrefixLen)
	return rep, err
}

var usageColumns = []string{"requests", "input_tokens", "cached_input_tokens", "output_tokens", "reasoning_tokens", "cost_usd", "refusals"}

func usageCells(r *rollup.ReportRow) []string {
	return []string{strconv.FormatInt(r.Requests, 10), strconv.FormatInt(r.InputTokens, 10),
		strconv.FormatInt(r.CachedInputTokens, 10), strconv.FormatInt(r.OutputTokens, 10),
		strconv.FormatInt(r.ReasoningTokens, 10), dollars(r.CostMicros), strconv.FormatInt(r.RefusalTotal(), 10)}
}

// dollars writes micro-dollars exactly, as a decimal with six places.
func dollars(micros int64) string {
	sign := ""
	if micros < 0 {
		sign, micros = "-", -micros
	}
	return fmt.Sprintf("%s%d.%06d", sign, micros/1_000_000, micros%1_000_000)
}

func (a *app) printUsage(rep *usageReport, format string) error {
	if rep.Rows == nil {
		rep.Rows = []rollup.ReportRow{}
	}
	switch format {
	case "json":
		return a.printJSON(rep)
	case "csv":
		w := csv.NewWriter(a.stdout)
		_ = w.Write(append([]string{rep.By}, usageColumns...))
		for i := range rep.Rows {
			_ = w.Write(append([]string{rep.Rows[i].Group}, usageCells(&rep.Rows[i])...))
		}
		w.Flush()
		return w.Error()
	}
	if len(rep.Rows) == 0 {
		_, err := fmt.Fprintf(a.stdout, "No usage since %s (%s).\n", rep.Since.Format(time.RFC3339), rep.Source)
		return err
	}
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, strings.ToUpper(rep.By)+"\tREQUESTS\tINPUT\tCACHED\tOUTPUT\tREASONING\tCOST_USD\tREFUSALS\t")
	var total rollup.Counts
	for i := range rep.Rows {
		fmt.Fprintln(w, rep.Rows[i].Group+"\t"+strings.Join(usageCells(&rep.Rows[i]), "\t")+"\t")
		total.Add(&rep.Rows[i].Counts)
	}
	t := rollup.ReportRow{Group: "TOTAL", Counts: total}
	fmt.Fprintln(w, "TOTAL\t"+strings.Join(usageCells(&t), "\t")+"\t")
	return w.Flush()
}
