package limits

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"

	"github.com/redis/go-redis/v9"
)

// A Redis that restarts without persistence comes back empty: every budget
// would silently start from zero. The epoch key tells: the first proxy
// writes a random value, every proxy remembers the one it saw, and a probe
// that finds the key gone (or changed) has found a store that lost its
// data. See Failover.checkEpoch.

// epochKey is where the store's epoch lives.
func (r *Redis) epochKey() string { return r.prefix + ":epoch" }

// epoch returns the store's epoch, creating it when absent; created says
// this call wrote it.
func (r *Redis) epoch(ctx context.Context) (value string, created bool, err error) {
	cctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	v, err := r.client.Get(cctx, r.epochKey()).Result()
	if err == nil {
		return v, false, nil
	}
	if !errors.Is(err, redis.Nil) {
		return "", false, r.wrap(ctx, "reading the epoch", err)
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", false, err
	}
	v = hex.EncodeToString(rnd[:])
	ok, err := r.client.SetNX(cctx, r.epochKey(), v, 0).Result()
	if err != nil {
		return "", false, r.wrap(ctx, "writing the epoch", err)
	}
	if !ok { // another proxy won the race
		v, err = r.client.Get(cctx, r.epochKey()).Result()
		if err != nil {
			return "", false, r.wrap(ctx, "reading the epoch", err)
		}
	}
	return v, ok, nil
}

// restoreScript raises settled usage to at least what a proxy last saw.
// KEYS: budgets. ARGV: pairs of budget key, usage.
var restoreScript = redis.NewScript(`
for a = 1, #ARGV, 2 do
  local f = 'u:' .. ARGV[a]
  local cur = tonumber(redis.call('HGET', KEYS[1], f)) or 0
  local v = tonumber(ARGV[a + 1])
  if v > cur then redis.call('HSET', KEYS[1], f, v) end
end
return 1
`)

// restore writes one subject's last seen usage back.
func (r *Redis) restore(ctx context.Context, subject string, keys []string, used []int64) error {
	args := make([]any, 0, 2*len(keys))
	for i, k := range keys {
		args = append(args, k, used[i])
	}
	cctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	if err := restoreScript.Run(cctx, r.client, r.keys(subject)[:1], args...).Err(); err != nil {
		return r.wrap(ctx, "restoring usage", err)
	}
	return nil
}

// seen returns, per subject, the budget totals this proxy last saw in
// Redis plus what it settled locally: its copy of the fleet's counters.
func (m *Memory) seen() map[string]struct {
	keys []string
	used []int64
} {
	out := map[string]struct {
		keys []string
		used []int64
	}{}
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		for _, st := range sh.subjects {
			e := out[st.subject]
			for _, b := range st.budgets {
				if v := b.base + b.used; v > 0 {
					e.keys = append(e.keys, b.key)
					e.used = append(e.used, v)
				}
			}
			if len(e.keys) > 0 {
				out[st.subject] = e
			}
		}
		sh.mu.Unlock()
	}
	return out
}
