package syncer

import (
	"context"
	"sync/atomic"

	"github.com/tokenomics-dev/tokenomics/core/fleet"
	"github.com/tokenomics-dev/tokenomics/core/manifest"
	"github.com/tokenomics-dev/tokenomics/core/tokenapi"
)

// Several central replicas serve the same feeds (they share one
// PostgreSQL), so a proxy given several remote URLs asks the one that
// last answered and, when it fails, the next ones in turn. It stays with
// whichever answers, so a dead replica costs one failed request per
// pull, not one per URL.

// FailoverTokens is a TokenFeed over several replicas' feeds.
type FailoverTokens struct {
	feeds []TokenFeed
	cur   atomic.Int32
}

// NewFailoverTokens returns a feed trying feeds in turn; it needs one.
func NewFailoverTokens(feeds ...TokenFeed) *FailoverTokens { return &FailoverTokens{feeds: feeds} }

// Changes asks the current replica, then the others.
func (f *FailoverTokens) Changes(ctx context.Context, since uint64) (tokenapi.ChangesResponse, error) {
	return try(ctx, &f.cur, len(f.feeds), func(i int) (tokenapi.ChangesResponse, error) {
		return f.feeds[i].Changes(ctx, since)
	})
}

// FailoverPlugins is a PluginFeed over several replicas' registries.
type FailoverPlugins struct {
	feeds []PluginFeed
	cur   atomic.Int32
}

// NewFailoverPlugins returns a registry trying feeds in turn.
func NewFailoverPlugins(feeds ...PluginFeed) *FailoverPlugins { return &FailoverPlugins{feeds: feeds} }

// Changes asks the current replica, then the others.
func (f *FailoverPlugins) Changes(ctx context.Context, since uint64) (manifest.Listing, error) {
	return try(ctx, &f.cur, len(f.feeds), func(i int) (manifest.Listing, error) { return f.feeds[i].Changes(ctx, since) })
}

// Fetch asks the current replica, then the others.
func (f *FailoverPlugins) Fetch(ctx context.Context, sha string) ([]byte, error) {
	return try(ctx, &f.cur, len(f.feeds), func(i int) ([]byte, error) { return f.feeds[i].Fetch(ctx, sha) })
}

// try calls do on the current index, then each next one, until one
// succeeds or the context ends; it returns the last error.
func try[T any](ctx context.Context, cur *atomic.Int32, n int, do func(i int) (T, error)) (T, error) {
	start := int(cur.Load())
	var (
		out T
		err error
	)
	for k := range n {
		i := (start + k) % n
		if out, err = do(i); err == nil {
			cur.Store(int32(i))
			return out, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return out, err
}

// FailoverFleet is a FleetPoster over several replicas: a report goes to
// the replica that took the last one, else to the next that answers.
type FailoverFleet struct {
	posters []FleetPoster
	cur     atomic.Int32
}

// NewFailoverFleet returns a poster trying posters in turn.
func NewFailoverFleet(posters ...FleetPoster) *FailoverFleet {
	return &FailoverFleet{posters: posters}
}

// Post sends r to the current replica, then the others.
func (f *FailoverFleet) Post(ctx context.Context, r fleet.Report) error {
	_, err := try(ctx, &f.cur, len(f.posters), func(i int) (struct{}, error) {
		return struct{}{}, f.posters[i].Post(ctx, r)
	})
	return err
}
