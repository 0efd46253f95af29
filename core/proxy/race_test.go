//go:build race

package proxy

// raceEnabled: the race detector allocates on its own, so allocation
// counts are only compared without it.
const raceEnabled = true
