package rollup

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/tokenomics-dev/tokenomics/core/pricing"
)

// Store keeps rollup rows. It is narrow on purpose: central's bbolt file
// implements it now, a PostgreSQL store can later. Implementations must be
// safe for concurrent use.
type Store interface {
	// Add stores b's rows, adding them to the rows already held under the
	// same key, unless a batch with b.ID was stored before. It reports
	// whether b was new. Storing the id and the rows is one atomic step,
	// so a batch is counted once however often it is sent.
	Add(ctx context.Context, b *Batch) (bool, error)
	// Query returns the rows whose minute is at or after since, in key
	// order.
	Query(ctx context.Context, since time.Time) ([]Row, error)
	// Prune drops rows, and remembered batch ids, older than before; it
	// returns the number of rows dropped.
	Prune(ctx context.Context, before time.Time) (int, error)
}

// ErrBadBatch is returned for a batch that cannot be stored as sent.
var ErrBadBatch = errors.New("rollup: malformed batch")

// Limits on a batch, so a hostile or broken sender costs little.
const (
	MaxBatchRows = 50_000
	maxIDLen     = 160
	maxLabelLen  = 256
	// MaxRowCount bounds each token or request count of one row: far
	// beyond any real minute of traffic, and small enough that sums of
	// many rows stay far from overflow.
	MaxRowCount int64 = 1 << 40
)

// Check validates a batch received from the network.
func (b *Batch) Check() error {
	if b.ID == "" || len(b.ID) > maxIDLen {
		return fmt.Errorf("%w: id", ErrBadBatch)
	}
	if len(b.Rows) > MaxBatchRows {
		return fmt.Errorf("%w: more than %d rows", ErrBadBatch, MaxBatchRows)
	}
	for i := range b.Rows {
		r := &b.Rows[i]
		if len(r.Token) > maxLabelLen || len(r.Model) > maxLabelLen || len(r.Provider) > maxLabelLen ||
			strings.ContainsRune(r.Token+r.Model+r.Provider, 0) {
			return fmt.Errorf("%w: row %d: label too long or holds NUL", ErrBadBatch, i)
		}
		if r.Minute%60 != 0 || r.Minute <= 0 {
			return fmt.Errorf("%w: row %d: minute is not a minute start", ErrBadBatch, i)
		}
		if r.Requests < 0 || r.InputTokens < 0 || r.CachedInputTokens < 0 || r.OutputTokens < 0 ||
			r.ReasoningTokens < 0 || r.CostMicros < 0 {
			return fmt.Errorf("%w: row %d: negative count", ErrBadBatch, i)
		}
		if r.Requests > MaxRowCount || r.InputTokens > MaxRowCount || r.CachedInputTokens > MaxRowCount ||
			r.OutputTokens > MaxRowCount || r.ReasoningTokens > MaxRowCount || r.CostMicros > pricing.MaxCost {
			return fmt.Errorf("%w: row %d: count out of range", ErrBadBatch, i)
		}
		for k, v := range r.Refusals {
			if v < 0 || v > MaxRowCount || len(k) > maxLabelLen || k == "" {
				return fmt.Errorf("%w: row %d: refusal %q", ErrBadBatch, i, k)
			}
		}
	}
	return nil
}

// Dimensions a report groups by.
const (
	ByToken    = "token"
	ByModel    = "model"
	ByProvider = "provider"
	ByDay      = "day"
)

// Dimensions lists the valid --by values.
var Dimensions = []string{ByToken, ByModel, ByProvider, ByDay}

// ReportRow is one group of a report.
type ReportRow struct {
	Group string `json:"group"`
	Counts
}

// Report sums rows by dimension, sorted by group. Tokens are shown by
// their hash prefix (prefixLen characters); days are UTC dates.
func Report(rows []Row, by string, prefixLen int) ([]ReportRow, error) {
	groups := map[string]*Counts{}
	for i := range rows {
		r := &rows[i]
		var g string
		switch by {
		case ByToken:
			g = r.Token
			if prefixLen > 0 && len(g) > prefixLen {
				g = g[:prefixLen]
			}
		case ByModel:
			g = r.Model
		case ByProvider:
			g = r.Provider
		case ByDay:
			g = time.Unix(r.Minute, 0).UTC().Format(time.DateOnly)
		default:
			return nil, fmt.Errorf("rollup: no dimension %q (want one of %s)", by, strings.Join(Dimensions, ", "))
		}
		c := groups[g]
		if c == nil {
			c = &Counts{}
			groups[g] = c
		}
		c.Add(&r.Counts)
	}
	out := make([]ReportRow, 0, len(groups))
	for g, c := range groups {
		out = append(out, ReportRow{Group: g, Counts: *c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Group < out[j].Group })
	return out, nil
}
