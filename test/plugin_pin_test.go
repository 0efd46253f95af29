package test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/tokenomics-dev/tokenomics/core/fleet"
	"github.com/tokenomics-dev/tokenomics/core/manifest"
	"github.com/tokenomics-dev/tokenomics/test/hostile"
)

// TestPluginSemverPin: a policy naming plugin@^1 follows the newest trusted
// 1.x both proxies hold, a policy pinned to a sha256 stays on its version
// through the upgrade, and 2.0.0 does not capture the ^1 token; the fleet
// shows which version each token count is on.
func TestPluginSemverPin(t *testing.T) {
	t.Parallel()
	op := t.TempDir()
	trusted := keygen(t, op, "signing.key")
	c := startCentralPair(t, true, trusted)
	v1 := hostile.AllowTagged("pin-1.0.0")
	signPush(t, op, c.centralURL, "v1.wasm", "pin-guard", "1.0.0", v1)

	ranged := `{"model_regex":"^gpt-4o","max_tokens":100000,"rules":[{"name":"guard","type":"wasm","plugin":"pin-guard@^1","action":"fail"}]}`
	rangeTok, _ := createToken(t, c.centralDir, c.env, ranged)
	pinTok, _ := createToken(t, c.centralDir, c.env, hostilePolicy("pin-guard", manifest.Sum(v1), "fail"))
	waitAll(t, c.urls(), rangeTok, "hello", 200, 10*time.Second)
	waitAll(t, c.urls(), pinTok, "hello", 200, 5*time.Second)

	// 1.1.0 blocks everything: the range follows it, the pin does not.
	v11 := hostile.Block("v1.1 refuses")
	signPush(t, op, c.centralURL, "v11.wasm", "pin-guard", "1.1.0", v11)
	waitAll(t, c.urls(), rangeTok, "hello", 403, 10*time.Second)
	waitAll(t, c.urls(), pinTok, "hello", 200, 5*time.Second)

	// 2.0.0 is outside ^1: the range token stays on 1.1.0.
	v2 := hostile.AllowTagged("pin-2.0.0")
	signPush(t, op, c.centralURL, "v2.wasm", "pin-guard", "2.0.0", v2)
	want := map[string]int{manifest.Sum(v1): 1, manifest.Sum(v11): 1, manifest.Sum(v2): 0}
	waitFleet(t, c.centralURL, 20*time.Second, func(st fleet.Status) bool {
		if len(st.Proxies) != 2 {
			return false
		}
		for _, p := range st.Proxies {
			if len(p.Plugins) != 3 {
				return false
			}
			for _, pl := range p.Plugins {
				if n, ok := want[pl.SHA256]; !ok || n != pl.Tokens {
					return false
				}
			}
		}
		return true
	})
	for i, p := range c.urls() {
		assert.Equal(t, 403, chatStatus(t, p, rangeTok, "hello"), "proxy %d: ^1 must not move to 2.0.0", i)
		assert.Equal(t, 200, chatStatus(t, p, pinTok, "hello"), "proxy %d", i)
	}
}
