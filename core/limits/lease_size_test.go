package limits

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
)

// TestLeaseSize: a lease is the one allocation every limited request
// makes (it cannot be pooled: holders may still call KeepAlive or Settle
// after it settled, see Lease). It stays in the 288-byte size class; it
// was 416 bytes while it held a whole RateInfo.
func TestLeaseSize(t *testing.T) {
	assert.LessOrEqual(t, unsafe.Sizeof(Lease{}), uintptr(288))
}

// TestRateKeepsTightestOfEachKind: Rate reports, per kind, the window
// with the least remaining, the first on a tie, and nothing for a kind
// the request had no window of.
func TestRateKeepsTightestOfEachKind(t *testing.T) {
	t.Parallel()
	windows := []Window{
		{Requests: true, Limit: 10, Window: 60_000_000_000},
		{Limit: 1000, Window: 3_600_000_000_000},
		{Requests: true, Limit: 100, Window: 3_600_000_000_000},
		{Limit: 5000, Window: 86_400_000_000_000},
	}
	var m rateMarks
	m.note(windows, 0, 7, 1_000)
	m.note(windows, 1, 900, 2_000)
	m.note(windows, 2, 7, 3_000) // a tie: the first stays
	m.note(windows, 3, 800, 4_000)
	l := &Lease{windows: windows, rate: m}
	ri := l.Rate()
	assert.Equal(t, windows[0], ri.Requests.Window)
	assert.EqualValues(t, 7, ri.Requests.Remaining)
	assert.EqualValues(t, 1_000, ri.Requests.Reset.UnixMilli())
	assert.Equal(t, windows[3], ri.Tokens.Window)
	assert.EqualValues(t, 800, ri.Tokens.Remaining)
	assert.EqualValues(t, 4_000, ri.Tokens.Reset.UnixMilli())

	only := &Lease{windows: windows[1:2]}
	only.rate.note(only.windows, 0, 5, 9)
	assert.Equal(t, RateStatus{}, only.Rate().Requests, "no request window")
	assert.EqualValues(t, 5, only.Rate().Tokens.Remaining)
}
