package cli

import (
	"github.com/redis/go-redis/v9"

	"github.com/tokenomics-dev/tokenomics/core/config"
	"github.com/tokenomics-dev/tokenomics/core/limits"
)

// redisOptions builds the limiter's Redis client options from
// session.redis: one server (addr), a primary found through Sentinel, or
// a Cluster. go-redis's universal client picks the kind from them.
func redisOptions(cfg *config.Config) *redis.UniversalOptions {
	rc := cfg.Session.Redis
	opts := limits.RedisClientOptions([]string{rc.Addr}, cfg.RedisPassword(), rc.DB, rc.Timeout.D())
	switch {
	case rc.Sentinel.MasterName != "":
		opts.MasterName = rc.Sentinel.MasterName
		opts.Addrs = append([]string(nil), rc.Sentinel.Addrs...)
		opts.SentinelPassword = rc.Sentinel.Password
	case len(rc.Cluster.Addrs) > 0:
		opts.Addrs = append([]string(nil), rc.Cluster.Addrs...)
		opts.IsClusterMode = true
		opts.DB = 0
	}
	return opts
}
