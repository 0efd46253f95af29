//go:build race

package memory

// raceEnabled: the race detector allocates on its own (and sync.Pool drops
// items at random under it), so allocation counts are only checked without.
const raceEnabled = true
