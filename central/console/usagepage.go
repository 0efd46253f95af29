package console

import (
	"encoding/csv"
	"github.com/tokenomics-dev/tokenomics/core/events"
	"net/http"
	"sort"
	"strconv"
	"time"
)

// usageRange is one choice of the usage page: how far back, in how many
// buckets.
type usageRange struct {
	Value string
	Label string
	Span  time.Duration
	Step  time.Duration
}

var usageRanges = []usageRange{
	{"1h", "last hour", time.Hour, time.Minute},
	{"24h", "last 24 hours", 24 * time.Hour, 30 * time.Minute},
	{"48h", "last 48 hours", 48 * time.Hour, time.Hour},
}

var usageDims = []string{"token", "model", "provider"}

// chart is a server-rendered SVG bar chart; coordinates are computed here
// so the template only places them.
type chart struct {
	Name   string
	Total  int64
	Reqs   int64
	Max    int64
	Bars   []bar
	Width  int
	Height int
	From   time.Time
	To     time.Time
}

type bar struct {
	X, Y, W, H float64
	Label      string
}

const chartW, chartH = 720, 120

func makeChart(name string, ps []point, step time.Duration) chart {
	c := chart{Name: name, Width: chartW, Height: chartH}
	for _, p := range ps {
		c.Total += p.Tokens
		c.Reqs += p.Reqs
		c.Max = max(c.Max, p.Tokens)
	}
	if len(ps) == 0 {
		return c
	}
	c.From, c.To = ps[0].At, ps[len(ps)-1].At.Add(step)
	w := float64(chartW) / float64(len(ps))
	for i, p := range ps {
		h := 0.0
		if c.Max > 0 {
			h = float64(p.Tokens) / float64(c.Max) * float64(chartH-4)
		}
		if p.Tokens > 0 && h < 1 {
			h = 1
		}
		c.Bars = append(c.Bars, bar{X: float64(i) * w, Y: float64(chartH) - h, W: max(1, w-1), H: h,
			Label: p.At.UTC().Format("Jan 2 15:04") + ": " + itoa(p.Tokens) + " tokens, " + itoa(p.Reqs) + " requests"})
	}
	return c
}

type usageData struct {
	Dim      string
	Dims     []string
	Range    usageRange
	Ranges   []usageRange
	Overall  chart
	Charts   []chart
	Since    time.Time
	Source   string
	Empty    bool
	Disabled bool
}

func (c *Console) usageQuery(r *http.Request) (string, usageRange) {
	dim := r.URL.Query().Get("by")
	ok := false
	for _, d := range usageDims {
		ok = ok || d == dim
	}
	if !ok {
		dim = "token"
	}
	rg := usageRanges[1]
	for _, x := range usageRanges {
		if x.Value == r.URL.Query().Get("range") {
			rg = x
		}
	}
	return dim, rg
}

func (c *Console) usageSeries(view usageView, dim string, rg usageRange) (map[string][]point, time.Time, int) {
	n := int(rg.Span / rg.Step)
	from := c.now().Truncate(rg.Step).Add(rg.Step).Add(-rg.Span)
	return view.seriesBy(dim, from, rg.Step, n), from, n
}

func (c *Console) usagePage(w http.ResponseWriter, r *http.Request, s *session) {
	dim, rg := c.usageQuery(r)
	view := c.view(r.Context(), c.now().Add(-rg.Span-rg.Step))
	d := usageData{Dim: dim, Dims: usageDims, Range: rg, Ranges: usageRanges, Disabled: view == nil}
	if view != nil {
		d.Since, d.Source = view.from(), view.source()
		series, from, n := c.usageSeries(view, dim, rg)
		all := make([]point, n)
		for i := range all {
			all[i].At = from.Add(time.Duration(i) * rg.Step)
		}
		for _, ps := range series {
			for i, p := range ps {
				all[i].Tokens += p.Tokens
				all[i].Reqs += p.Reqs
			}
		}
		d.Overall = makeChart("all", all, rg.Step)
		for name, ps := range series {
			d.Charts = append(d.Charts, makeChart(name, ps, rg.Step))
		}
		sort.Slice(d.Charts, func(i, j int) bool {
			if d.Charts[i].Total != d.Charts[j].Total {
				return d.Charts[i].Total > d.Charts[j].Total
			}
			return d.Charts[i].Name < d.Charts[j].Name
		})
		if len(d.Charts) > 12 {
			d.Charts = d.Charts[:12]
		}
		d.Empty = d.Overall.Reqs == 0
	}
	c.render(w, r, s, http.StatusOK, "usage", page{Title: "Usage", Nav: "usage", Data: d})
}

// usageCSV exports the page's series: one row per bucket and name.
func (c *Console) usageCSV(w http.ResponseWriter, r *http.Request, s *session) {
	dim, rg := c.usageQuery(r)
	view := c.view(r.Context(), c.now().Add(-rg.Span-rg.Step))
	if view == nil {
		c.renderError(w, r, s, http.StatusNotFound, "This central server does not collect usage.")
		return
	}
	series, _, _ := c.usageSeries(view, dim, rg)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="tokenomics-usage-`+dim+`-`+rg.Value+`.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"bucket_start", "bucket_seconds", dim, "requests", "tokens"})
	for _, name := range sortedKeys(series) {
		for _, p := range series[name] {
			if p.Reqs == 0 && p.Tokens == 0 {
				continue
			}
			_ = cw.Write([]string{p.At.UTC().Format(time.RFC3339), strconv.Itoa(int(rg.Step.Seconds())), csvSafe(name),
				strconv.FormatInt(p.Reqs, 10), strconv.FormatInt(p.Tokens, 10)})
		}
	}
	cw.Flush()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}

type eventsData struct {
	Items    []feedItem
	Filter   string
	Source   string
	Disabled bool
}

// refusalTypes are the events that report a refused request.
var refusalTypes = []string{"budget.*", "rate.*", events.RuleViolation, events.RuleError}

func (c *Console) eventsPage(w http.ResponseWriter, r *http.Request, s *session) {
	d := eventsData{Filter: r.URL.Query().Get("show")}
	var keep func(feedItem) bool
	var types []string
	switch d.Filter {
	case "refusals":
		types, keep = refusalTypes, func(f feedItem) bool { return f.Refusal }
	case "rules":
		types = []string{"rule.*"}
	case "requests":
		types = []string{events.RequestCompleted}
	default:
		d.Filter = ""
	}
	items, source, ok := c.feed(r.Context(), types, 300, keep)
	d.Items, d.Source, d.Disabled = items, source, !ok
	c.render(w, r, s, http.StatusOK, "events", page{Title: "Events", Nav: "events", Data: d})
}
