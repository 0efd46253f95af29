package test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// Labels Prometheus adds at scrape time or that histogram queries use.
var scrapeLabels = map[string]bool{"instance": true, "job": true, "le": true, "__name__": true}

var (
	metricRef   = regexp.MustCompile(`\btokenomics_[a-z0-9_]+`)
	byClause    = regexp.MustCompile(`\bby\s*\(([^)]*)\)`)
	matcherName = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)`)
	selector    = regexp.MustCompile(`\{([^}]*)\}`)
)

// promFamilies reads /metrics text: families by name (from # TYPE) and the
// label names seen on each family's samples.
func promFamilies(text string) (types map[string]string, labels map[string]map[string]bool) {
	types, labels = map[string]string{}, map[string]map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			types[f[2]] = f[3]
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, _ := strings.Cut(line, "{")
		if i := strings.IndexByte(name, ' '); i >= 0 {
			name = name[:i]
		}
		fam := familyOf(name, types)
		if labels[fam] == nil {
			labels[fam] = map[string]bool{}
		}
		for _, m := range matcherName.FindAllStringSubmatch(strings.Split(rest, "}")[0], -1) {
			labels[fam][m[1]] = true
		}
	}
	return types, labels
}

// familyOf maps a histogram's _bucket/_sum/_count series to its family.
func familyOf(name string, types map[string]string) string {
	for _, suf := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suf); ok && types[base] == "histogram" {
			return base
		}
	}
	return name
}

// observabilityExprs are the PromQL expressions of the example dashboard
// and alert rules.
func observabilityExprs(t *testing.T) []string {
	t.Helper()
	var exprs []string
	b, err := os.ReadFile("../examples/observability/grafana-dashboard.json")
	require.NoError(t, err)
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(b, &dash))
	require.NotEmpty(t, dash.Panels)
	for _, p := range dash.Panels {
		require.NotEmpty(t, p.Targets, p.Title)
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	b, err = os.ReadFile("../examples/observability/prometheus-alerts.yaml")
	require.NoError(t, err)
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	require.NoError(t, yaml.Unmarshal(b, &rules))
	require.NotEmpty(t, rules.Groups)
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			require.NotEmpty(t, r.Expr, r.Alert)
			exprs = append(exprs, r.Expr)
		}
	}
	return exprs
}

// TestUsageObservabilityMetricsExist: every metric the example dashboard
// and alert rules query is served by a real proxy or central server, and
// every label they group or match by is on its samples once traffic,
// rules, sync, pushes, usage rollups and events have run.
func TestUsageObservabilityMetricsExist(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{})
	env := proxyEnv()
	cport, pport := freePort(t), freePort(t)
	centralURL := fmt.Sprintf("http://127.0.0.1:%d", cport)
	cdir := newCentralDir(t, centralSetup{fakeURL: fake.URL(), webhooks: []string{fmt.Sprintf("http://127.0.0.1:%d/v1/webhook", pport)}})
	startRemote(t, cdir, cport, env)
	extra := syncedProxy(centralURL, 1, true) + "usage:\n  interval: 1s\n" +
		fmt.Sprintf("events:\n  webhooks:\n    - url: %s/webhook\n      secret: %s\n      signing_key: %s\n      timeout: 5\n",
			centralURL, centralSecret, centralSigning)
	pdir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: pport, extra: extra})
	p := startServe(t, pdir, pport, env)
	pxNoRace(t, p)

	tok, _, err := apiCreateErr(centralURL)
	require.NoError(t, err)
	waitAll(t, []string{p.URL}, tok, "warm", 200, 60*time.Second)
	// A token with a rule, made after the proxy started: a push, a rule
	// call, a rule action.
	body := `{"policy":{"model_regex":"^gpt-4o","max_tokens":100000,"rules":[{"name":"mask-mail","type":"pii","detect":["email"],"action":"mask","scope":"input"}]}}`
	ruled := apiPostToken(t, centralURL, body)
	waitAll(t, []string{p.URL}, ruled, "mail a@b.example", 200, 60*time.Second)
	r := pxPost(t, p.URL+"/v1/chat/completions", ruled, pxChat("o3-mini", "refused", false, ""))
	require.Equal(t, 403, r.status, "%s", r.body)

	// One forged delivery, so central's refusal counter has a sample.
	forged, err := http.NewRequest(http.MethodPost, centralURL+"/webhook", strings.NewReader(`{"id":"x","type":"rule.violation"}`))
	require.NoError(t, err)
	forged.Header.Set("X-Tokenomics-Secret", "wrong")
	resp, err := centralClient.Do(forged)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	scrape := func(url string) string {
		resp, err := centralClient.Get(url + "/metrics")
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	var types map[string]string
	var labels map[string]map[string]bool
	require.Eventually(t, func() bool {
		types, labels = promFamilies(scrape(p.URL) + "\n" + scrape(centralURL))
		return len(labels["tokenomics_events_received_total"]) > 0 && len(labels["tokenomics_usage_batches_received_total"]) > 0
	}, 60*time.Second, 200*time.Millisecond, "central never counted the proxy's events and usage")

	exprs := observabilityExprs(t)
	var missing []string
	for _, e := range exprs {
		names := metricRef.FindAllString(e, -1)
		require.NotEmpty(t, names, "expression queries no tokenomics metric: %s", e)
		seen := map[string]bool{}
		for _, n := range names {
			fam := familyOf(n, types)
			if _, ok := types[fam]; !ok {
				missing = append(missing, fmt.Sprintf("metric %s (in %s)", n, e))
				continue
			}
			for l := range labels[fam] {
				seen[l] = true
			}
		}
		var used []string
		for _, m := range byClause.FindAllStringSubmatch(e, -1) {
			for _, l := range strings.Split(m[1], ",") {
				used = append(used, strings.TrimSpace(l))
			}
		}
		for _, m := range selector.FindAllStringSubmatch(e, -1) {
			for _, mm := range matcherName.FindAllStringSubmatch(m[1], -1) {
				used = append(used, mm[1])
			}
		}
		for _, l := range used {
			if l != "" && !scrapeLabels[l] && !seen[l] {
				missing = append(missing, fmt.Sprintf("label %s (in %s)", l, e))
			}
		}
	}
	sort.Strings(missing)
	require.Empty(t, missing, "queried but not served")

	// The check itself can fail: a made-up metric is caught.
	_, ok := types[familyOf("tokenomics_made_up_total", types)]
	require.False(t, ok)
}

// apiPostToken creates a token with the given request body over central's
// REST API and returns it.
func apiPostToken(t *testing.T, centralURL, body string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, centralURL+"/api/v1/tokens", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+centralKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := apiClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, 201, resp.StatusCode, "%s", b)
	var out struct {
		Token string `json:"token"`
	}
	require.NoError(t, json.Unmarshal(b, &out))
	return out.Token
}
