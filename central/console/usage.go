package console

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/tokenomics-dev/tokenomics/core/events"
)

const (
	// usageKeep is how far back the per-minute series go.
	usageKeep = 48 * time.Hour
	// feedKeep bounds the events feed.
	feedKeep = 2000
	// maxSeries bounds the (token, model, provider) series held.
	maxSeries = 20000
)

// Usage keeps what proxies report: per-minute request and token counts per
// token, model and provider for the last 48 hours, totals per token since
// this server started, and the newest events. It lives in memory; a
// restart starts from nothing, and the pages say what they cover.
type Usage struct {
	now     func() time.Time
	started time.Time

	mu     sync.Mutex
	series map[seriesKey]map[int64]*counts // minute (unix/60) → counts
	totals map[string]*counts              // token hash prefix → since start
	models map[string]map[string]*counts   // token hash prefix → model → since start
	seen   map[string]time.Time            // proxy source → last event
	feed   []feedItem                      // ring, newest at feedNext-1
	next   int
}

type seriesKey struct{ Token, Model, Provider string }

type counts struct {
	Requests int64
	Input    int64
	Output   int64
	Refused  int64
}

// feedItem is one reported event, flattened for the feed.
type feedItem struct {
	Time    time.Time
	Type    string
	Source  string
	Token   string
	Model   string
	Summary string
	Refusal bool
}

// NewUsage returns an empty Usage.
func NewUsage() *Usage {
	now := time.Now
	return &Usage{now: now, started: now(), series: map[seriesKey]map[int64]*counts{},
		totals: map[string]*counts{}, models: map[string]map[string]*counts{}, seen: map[string]time.Time{},
		feed: make([]feedItem, 0, feedKeep)}
}

// Add records one event a proxy reported.
func (u *Usage) Add(ev events.Event) {
	item := feedItem{Time: ev.Time, Type: ev.Type, Source: ev.Source}
	if item.Time.IsZero() {
		item.Time = u.now()
	}
	var req events.RequestData
	switch {
	case ev.Type == events.RequestCompleted:
		if json.Unmarshal(ev.Data, &req) != nil {
			return
		}
		item.Token, item.Model = req.TokenHashPrefix, req.Model
		item.Summary = req.Provider + " " + itoa(req.Status) + ": " + itoa(req.InputTokens) + " in, " + itoa(req.OutputTokens) + " out, " + itoa(req.LatencyMS) + " ms"
	case ev.Type == events.BudgetExceeded || ev.Type == events.RateExceeded:
		var d events.LimitData
		if json.Unmarshal(ev.Data, &d) != nil {
			return
		}
		item.Token, item.Model, item.Refusal = d.TokenHashPrefix, d.Model, true
		item.Summary = "limit " + itoa(d.Limit) + ", used " + itoa(d.Used)
		if d.Window != "" {
			item.Summary += " per " + d.Window
		}
	case ev.Type == events.RuleError:
		var d events.RuleErrorData
		if json.Unmarshal(ev.Data, &d) != nil {
			return
		}
		item.Token, item.Refusal = d.TokenHashPrefix, d.Blocked
		item.Summary = "rule " + d.Rule + " (plugin " + d.Plugin + ") failed: " + d.Cause
	case strings.HasPrefix(ev.Type, "rule."):
		var d events.RuleData
		if json.Unmarshal(ev.Data, &d) != nil {
			return
		}
		item.Token, item.Refusal = d.TokenHashPrefix, ev.Type == events.RuleViolation
		item.Summary = "rule " + d.Rule + ": " + d.Action
		if len(d.Findings) > 0 {
			item.Summary += " (" + strings.Join(d.Findings, ", ") + ")"
		}
	case ev.Type == events.ServerStart:
		var d events.ServerData
		_ = json.Unmarshal(ev.Data, &d)
		item.Summary = d.Role + " started, version " + d.Version
	default:
		item.Summary = string(ev.Data)
		if len(item.Summary) > 200 {
			item.Summary = item.Summary[:200] + "…"
		}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if ev.Source != "" {
		u.seen[ev.Source] = u.now()
	}
	if len(u.feed) < feedKeep {
		u.feed = append(u.feed, item)
	} else {
		u.feed[u.next] = item
	}
	u.next = (u.next + 1) % feedKeep
	if item.Token == "" {
		return
	}
	tot := u.totals[item.Token]
	if tot == nil {
		tot = &counts{}
		u.totals[item.Token] = tot
	}
	if item.Refusal {
		tot.Refused++
	}
	if ev.Type != events.RequestCompleted {
		return
	}
	tot.Requests++
	tot.Input += req.InputTokens
	tot.Output += req.OutputTokens
	bym := u.models[item.Token]
	if bym == nil {
		bym = map[string]*counts{}
		u.models[item.Token] = bym
	}
	mc := bym[req.Model]
	if mc == nil {
		mc = &counts{}
		bym[req.Model] = mc
	}
	mc.Requests++
	mc.Input += req.InputTokens
	mc.Output += req.OutputTokens
	key := seriesKey{Token: item.Token, Model: req.Model, Provider: req.Provider}
	s := u.series[key]
	if s == nil {
		if len(u.series) >= maxSeries {
			u.prune()
		}
		s = map[int64]*counts{}
		u.series[key] = s
	}
	m := item.Time.Unix() / 60
	c := s[m]
	if c == nil {
		c = &counts{}
		s[m] = c
		if len(s) > int(usageKeep/time.Minute) {
			u.pruneSeries(s)
		}
	}
	c.Requests++
	c.Input += req.InputTokens
	c.Output += req.OutputTokens
}

// prune drops minutes older than usageKeep and empty series; the caller
// holds mu.
func (u *Usage) prune() {
	for k, s := range u.series {
		u.pruneSeries(s)
		if len(s) == 0 {
			delete(u.series, k)
		}
	}
}

func (u *Usage) pruneSeries(s map[int64]*counts) {
	oldest := u.now().Add(-usageKeep).Unix() / 60
	for m := range s {
		if m < oldest {
			delete(s, m)
		}
	}
}

// TokenTotals returns what proxies reported for a token since start.
func (u *Usage) tokenTotals(prefix string) (counts, map[string]counts) {
	u.mu.Lock()
	defer u.mu.Unlock()
	var tot counts
	if t := u.totals[prefix]; t != nil {
		tot = *t
	}
	bym := map[string]counts{}
	for m, c := range u.models[prefix] {
		bym[m] = *c
	}
	return tot, bym
}

// windowTokens sums a token's tokens and requests over the last d.
func (u *Usage) window(prefix string, d time.Duration) counts {
	u.mu.Lock()
	defer u.mu.Unlock()
	from := u.now().Add(-d).Unix() / 60
	var out counts
	for k, s := range u.series {
		if k.Token != prefix {
			continue
		}
		for m, c := range s {
			if m >= from {
				out.Requests += c.Requests
				out.Input += c.Input
				out.Output += c.Output
			}
		}
	}
	return out
}

// recentFeed returns up to n feed items, newest first, that keep accepts.
func (u *Usage) recentFeed(n int, keep func(feedItem) bool) []feedItem {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []feedItem
	for i := 0; i < len(u.feed) && len(out) < n; i++ {
		idx := (u.next - 1 - i + 2*feedKeep) % feedKeep
		if idx >= len(u.feed) {
			continue
		}
		if keep == nil || keep(u.feed[idx]) {
			out = append(out, u.feed[idx])
		}
	}
	return out
}

// point is one bucket of a chart series.
type point struct {
	At     time.Time
	Tokens int64
	Reqs   int64
}

// seriesBy groups the buckets of [from, to) of step by dim ("token",
// "model" or "provider").
func (u *Usage) seriesBy(dim string, from time.Time, step time.Duration, n int) map[string][]point {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := map[string][]point{}
	first := from.Unix() / 60
	stepMin := int64(step / time.Minute)
	for k, s := range u.series {
		name := k.Token
		switch dim {
		case "model":
			name = k.Model
		case "provider":
			name = k.Provider
		}
		for m, c := range s {
			i := (m - first) / stepMin
			if m < first || i >= int64(n) {
				continue
			}
			ps := out[name]
			if ps == nil {
				ps = make([]point, n)
				for j := range ps {
					ps[j].At = from.Add(time.Duration(j) * step)
				}
				out[name] = ps
			}
			ps[i].Tokens += c.Input + c.Output
			ps[i].Reqs += c.Requests
		}
	}
	return out
}

// proxiesSeen returns the proxies that reported events, with when.
func (u *Usage) proxiesSeen() map[string]time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make(map[string]time.Time, len(u.seen))
	for k, v := range u.seen {
		out[k] = v
	}
	return out
}

// Ingest returns the handler of POST /api/v1/events: proxies list it under
// events.webhooks with the secret and signing key given here, and the
// events they send (request.completed, refusals, rule findings) feed the
// console's usage and events pages. Signatures, timestamps and replays are
// checked by events.Verifier.
func Ingest(u *Usage, secret, signingKey string, log hclog.Logger) (http.Handler, error) {
	v, err := events.NewVerifier(events.VerifierConfig{Secret: secret, SigningKey: signingKey})
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	log = log.Named("ingest")
	return events.NewReceiverHandler(v, u.Add, events.WithRejectHook(func(r *http.Request, status int, err error) {
		log.Warn("event from a proxy refused", "source", sourceAddr(r), "status", status, "error", err)
	})), nil
}

func itoa[T ~int | ~int64](n T) string { return strconv.FormatInt(int64(n), 10) }

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
