package console

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tokenomics-dev/tokenomics/core/events"
)

// usageKeep is how far back the token list counts usage.
const usageKeep = 48 * time.Hour

// counts are one key's figures.
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

// feedOf flattens an event for the feed; ok is false for an event whose
// data does not decode.
func feedOf(ev events.Event) (item feedItem, ok bool) {
	var req events.RequestData
	item = feedItem{Time: ev.Time, Type: ev.Type, Source: ev.Source}
	switch {
	case ev.Type == events.RequestCompleted:
		if json.Unmarshal(ev.Data, &req) != nil {
			return item, false
		}
		item.Token, item.Model = req.TokenHashPrefix, req.Model
		item.Summary = req.Provider + " " + itoa(req.Status) + ": " + itoa(req.InputTokens) + " in, " + itoa(req.OutputTokens) + " out, " + itoa(req.LatencyMS) + " ms"
	case ev.Type == events.BudgetExceeded || ev.Type == events.RateExceeded:
		var d events.LimitData
		if json.Unmarshal(ev.Data, &d) != nil {
			return item, false
		}
		item.Token, item.Model, item.Refusal = d.TokenHashPrefix, d.Model, true
		item.Summary = "limit " + itoa(d.Limit) + ", used " + itoa(d.Used)
		if d.Window != "" {
			item.Summary += " per " + d.Window
		}
	case ev.Type == events.RuleError:
		var d events.RuleErrorData
		if json.Unmarshal(ev.Data, &d) != nil {
			return item, false
		}
		item.Token, item.Refusal = d.TokenHashPrefix, d.Blocked
		item.Summary = "rule " + d.Rule + " (plugin " + d.Plugin + ") failed: " + d.Cause
	case strings.HasPrefix(ev.Type, "rule."):
		var d events.RuleData
		if json.Unmarshal(ev.Data, &d) != nil {
			return item, false
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
	return item, true
}

// point is one bucket of a chart series.
type point struct {
	At     time.Time
	Tokens int64
	Reqs   int64
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
