package console

import (
	"context"
	"time"

	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/rollup"
)

// usageView is what the pages read spend from: the fleet's rollups in
// central's store.
type usageView interface {
	tokenTotals(prefix string) (counts, map[string]counts)
	window(prefix string, d time.Duration) counts
	seriesBy(dim string, from time.Time, step time.Duration, n int) map[string][]point
	// from is where the figures start.
	from() time.Time
	// source names where they come from, for the pages.
	source() string
}

// view returns the usage to show, covering at least since; nil when this
// server has none.
func (c *Console) view(ctx context.Context, since time.Time) usageView {
	if c.o.Rollups != nil {
		rows, err := c.o.Rollups.Query(ctx, since)
		if err != nil {
			c.log.Warn("reading usage rollups", "error", err)
		} else {
			return newRollupView(rows, since, c.now())
		}
	}
	return nil
}

// rollupView answers from rollup rows, naming tokens by their hash
// prefix as events do.
type rollupView struct {
	rows  []rollup.Row
	since time.Time
	now   time.Time
}

func newRollupView(rows []rollup.Row, since, now time.Time) *rollupView {
	return &rollupView{rows: rows, since: since, now: now}
}

func (v *rollupView) from() time.Time { return v.since }
func (v *rollupView) source() string  { return "the usage rollups proxies send to the central server" }

func rowCounts(r *rollup.Row) counts {
	return counts{Requests: r.Requests, Input: r.InputTokens, Output: r.OutputTokens, Refused: r.RefusalTotal()}
}

func addCounts(a *counts, b counts) {
	a.Requests += b.Requests
	a.Input += b.Input
	a.Output += b.Output
	a.Refused += b.Refused
}

func (v *rollupView) tokenTotals(prefix string) (counts, map[string]counts) {
	var tot counts
	bym := map[string]counts{}
	for i := range v.rows {
		r := &v.rows[i]
		if events.HashPrefix(r.Token) != prefix {
			continue
		}
		c := rowCounts(r)
		addCounts(&tot, c)
		if c.Requests > 0 {
			m := bym[r.Model]
			addCounts(&m, c)
			bym[r.Model] = m
		}
	}
	return tot, bym
}

func (v *rollupView) window(prefix string, d time.Duration) counts {
	from := v.now.Add(-d).Unix() / 60 * 60
	var out counts
	for i := range v.rows {
		r := &v.rows[i]
		if r.Minute >= from && events.HashPrefix(r.Token) == prefix {
			addCounts(&out, rowCounts(r))
		}
	}
	return out
}

func (v *rollupView) seriesBy(dim string, from time.Time, step time.Duration, n int) map[string][]point {
	out := map[string][]point{}
	first := from.Unix()
	for i := range v.rows {
		r := &v.rows[i]
		idx := (r.Minute - first) / int64(step/time.Second)
		if r.Minute < first || idx >= int64(n) || r.Requests == 0 {
			continue
		}
		name := events.HashPrefix(r.Token)
		switch dim {
		case "model":
			name = r.Model
		case "provider":
			name = r.Provider
		}
		ps := out[name]
		if ps == nil {
			ps = make([]point, n)
			for j := range ps {
				ps[j].At = from.Add(time.Duration(j) * step)
			}
			out[name] = ps
		}
		ps[idx].Tokens += r.InputTokens + r.OutputTokens
		ps[idx].Reqs += r.Requests
	}
	return out
}
