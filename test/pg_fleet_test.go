package test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/core/fleet"
	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// TestPGFleetAndUsageAcrossReplicas: proxies given both replicas of a
// PostgreSQL central (remote.url "A,B") show in the fleet of each replica
// and ship usage that either replica reports; when A is killed, their
// heartbeats and usage batches go to B, and nothing is counted twice.
func TestPGFleetAndUsageAcrossReplicas(t *testing.T) {
	t.Parallel()
	fake := startFake(t, fakeupstream.Options{})
	r := startPGReplicasWith(t, fake, "  fleet_interval: 1s\nusage:\n  interval: 1s\n")
	a, b := r.replicaURL[0], r.replicaURL[1]

	tok, _ := apiCreate(t, a)
	waitAll(t, r.proxyURLs(), tok, "warm", 200, 60*time.Second)
	rev := fleetStatus(t, a).Revision
	for _, u := range []string{a, b} {
		waitFleet(t, u, 30*time.Second, allAt(2, rev))
	}

	send := func(from, n int) {
		for i := from; i < from+n; i++ {
			px := r.proxies[i%2]
			res := pxPost(t, px.URL+"/v1/chat/completions", tok, pxChat("gpt-4o", fmt.Sprintf("replicas %d", i), false, ""))
			require.Equal(t, 200, res.status, "%s", res.body)
		}
	}
	send(0, 6)
	waitUsage(t, b, fakeTotalsByModel(t, fake))

	r.replicas[0].Kill()
	killed := time.Now().UTC()
	send(6, 6)
	want := fakeTotalsByModel(t, fake)
	waitUsage(t, b, want)
	require.Equal(t, fmt.Sprint(want), fmt.Sprint(totalsOf(centralUsage(t, b, "model"))),
		"every request counted once after the fail-over")
	waitFleet(t, b, 30*time.Second, func(st fleet.Status) bool {
		if len(st.Proxies) != 2 {
			return false
		}
		for _, p := range st.Proxies {
			if !p.LastContact.After(killed) {
				return false
			}
		}
		return true
	})
}
