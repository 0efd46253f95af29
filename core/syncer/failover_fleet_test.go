package syncer

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/fleet"
)

// countingPoster fails while err is set and counts its calls.
type countingPoster struct {
	err   error
	calls int
}

func (p *countingPoster) Post(context.Context, fleet.Report) error {
	p.calls++
	return p.err
}

// TestFailoverFleet: a report goes to the first replica that takes it,
// later ones start there, and every replica failing returns the error.
func TestFailoverFleet(t *testing.T) {
	down := errors.New("connection refused")
	a, b := &countingPoster{err: down}, &countingPoster{}
	f := NewFailoverFleet(a, b)
	ctx := context.Background()
	require.NoError(t, f.Post(ctx, fleet.Report{Instance: "px"}))
	require.NoError(t, f.Post(ctx, fleet.Report{Instance: "px"}))
	require.Equal(t, 1, a.calls, "the second report starts at b, which took the first")
	require.Equal(t, 2, b.calls)
	b.err = down
	require.ErrorIs(t, f.Post(ctx, fleet.Report{Instance: "px"}), down)
	require.Equal(t, 2, a.calls)
}
