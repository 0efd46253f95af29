package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/tokenomics-dev/tokenomics/core/config"
	"github.com/tokenomics-dev/tokenomics/core/events"
	"github.com/tokenomics-dev/tokenomics/core/limits"
	"github.com/tokenomics-dev/tokenomics/core/memory"
	"github.com/tokenomics-dev/tokenomics/core/metrics"
	"github.com/tokenomics-dev/tokenomics/core/policy"
	"github.com/tokenomics-dev/tokenomics/core/proxy"
	"github.com/tokenomics-dev/tokenomics/core/rollup"
	"github.com/tokenomics-dev/tokenomics/core/rules"
	"github.com/tokenomics-dev/tokenomics/core/store"
	"github.com/tokenomics-dev/tokenomics/core/syncer"
	"github.com/tokenomics-dev/tokenomics/core/tokenapi"
	"github.com/tokenomics-dev/tokenomics/plugins"
)

func init() { register(serveCmd) }

func serveCmd(a *app) *cobra.Command {
	var cpuProfile, memProfile, readyPath string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the proxy (data plane)",
		Long: `Runs the gateway on server.http_port (and server.https_port with TLS). Tokens
come from storage.db_path; token commands run on the same machine reach this
process through its loopback admin endpoint and apply at once.

Start-up logs what it loads, where it listens (and warns when that is every
interface) and how long it took. --ready-file receives the bound addresses
once every listener accepts connections. A parent that opened the listening
sockets itself (a supervisor, a test) passes them as file descriptors 3, 4, …
with TOKENOMICS_LISTEN_FDS=<count>; a configured port with a socket there is
served on it instead of being bound again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			if cpuProfile != "" {
				stop, err := startCPUProfile(cpuProfile)
				if err != nil {
					return err
				}
				defer stop()
			}
			paceCollector()
			if memProfile != "" {
				// Sampled finer than the default 512 KB so that per-connection
				// state shows; costs a little CPU, only with the flag.
				runtime.MemProfileRate = 4096
				defer writeHeapProfile(memProfile, a.logger(cfg))
			}
			return runServe(cmd.Context(), cfg, a.logger(cfg), readyPath)
		},
	}
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile to this file until shutdown (for load tests)")
	cmd.Flags().StringVar(&memProfile, "memprofile", "", "at shutdown, write a heap profile (live memory as of the last collection, allocations since start) to this file (for load tests)")
	cmd.Flags().StringVar(&readyPath, "ready-file", "", "once listening, write the bound addresses here as KEY=value lines (HTTP_ADDR, HTTPS_ADDR, ADMIN_ADDR, PID)")
	return cmd
}

// writeHeapProfile writes the heap profile without collecting first: the
// live figures are those of the last collection under load, not of the
// idle process after it.
func writeHeapProfile(path string, log hclog.Logger) {
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("heap").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		log.Warn("writing the heap profile failed", "path", path, "error", err)
	}
}

func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }, nil
}

// components is everything serve starts, closed in reverse order.
type components struct {
	closers []func(context.Context) error
}

func (c *components) add(f func(context.Context) error) { c.closers = append(c.closers, f) }

func (c *components) close(ctx context.Context, log hclog.Logger) {
	for i := len(c.closers) - 1; i >= 0; i-- {
		if err := c.closers[i](ctx); err != nil {
			log.Warn("shutdown step failed", "error", err)
		}
	}
}

func runServe(ctx context.Context, cfg *config.Config, log hclog.Logger, readyPath string) error {
	began := time.Now()
	var c components
	defer c.close(context.Background(), log)
	defer removeReadyFile(readyPath)
	cfg = withProxyStore(cfg) // a synced proxy keeps its own <db>.proxy.db
	log.Info("starting proxy", "config", cfg.Path, "providers_file", cfg.ProvidersPath, "db_path", cfg.Storage.DBPath)

	db, err := openProxyStore(cfg, log)
	if err != nil {
		return err
	}
	c.add(func(context.Context) error { return db.Close() })

	limiter, err := newLimiter(cfg, db, log)
	if err != nil {
		return err
	}
	c.add(func(context.Context) error { return limiter.Close() })

	// Provisioning opens the compilation cache; plugins compile (or load
	// from the cache) in the background once tokens need them.
	ruleStart := time.Now()
	log.Info("starting the rule host", "builtin_plugins", builtinPlugins(), "cache_dir", cfg.Abs(cfg.Plugins.CacheDir))
	host := rules.New(ruleHostConfig(cfg), log)
	if err := host.Provision(ctx); err != nil {
		return fmt.Errorf("starting the rule host: %w", err)
	}
	c.add(host.Close)
	log.Info("rule host ready", "took", time.Since(ruleStart).Round(time.Millisecond).String())

	mem := memory.New(memory.Options{AllowedDirs: cfg.Memory.AllowedDirs, BaseDir: mustWD(), Logger: log})
	c.add(mem.Close)

	disp, err := newDispatcher(cfg, nil, events.DirReport, log)
	if err != nil {
		return err
	}
	if disp != nil {
		c.add(disp.Close)
	}

	reg := metrics.NewRegistry()
	var sy *syncer.Syncer
	if cfg.Remote.URL != "" {
		if sy, err = startSyncer(cfg, db, host, reg, log); err != nil {
			return err
		}
		c.add(sy.Close)
	}
	plugins, routes, notReady, err := syncWiring(cfg, sy)
	if err != nil {
		return err
	}
	usage, err := startUsage(cfg, db, reg, &c, log)
	if err != nil {
		return err
	}
	tracer, err := startTracing(ctx, cfg, &c, log)
	if err != nil {
		return err
	}

	// The rule plugins the tokens' policies use load in the background (on
	// a cold plugins.cache_dir that is seconds): the proxy serves at once,
	// and a token whose rules are not loaded yet waits for them at most
	// plugins.load_wait, then gets 503 (/ready counts them: rules_loading).
	loadStart := time.Now()
	log.Info("loading tokens")
	srv, err := proxy.New(proxy.Options{Config: cfg, Logger: log, Tokens: db, Hasher: db.Hasher(), Limiter: limiter,
		Rules: host, Plugins: plugins, Memory: mem, Events: emitterOrNil(disp), Metrics: reg,
		Source: events.ProxySource(hostname()), Routes: routes, NotReady: notReady,
		Usage: usage.Aggregator(), Tracer: tracer, RulesLoadWait: cfg.Plugins.LoadWait.D()})
	if err != nil {
		return err
	}

	log.Info("tokens loaded; their rule plugins load in the background", "tokens", srv.Tokens(),
		"cache_dir", cfg.Abs(cfg.Plugins.CacheDir), "took", time.Since(loadStart).Round(time.Millisecond).String())

	rf := readyFile{}
	// A synced copy is written only by the syncer: local token commands go
	// to remote.url instead (see manager in token.go), so its admin
	// endpoint serves only the usage report (`usage --local`).
	var tm tokenapi.Manager
	if cfg.Remote.URL == "" {
		tm = tokenapi.NewService(db, policyValidator(cfg), policy.MergePatch, log)
	}
	admin := tokenapi.NewLocalAdmin(tm, log)
	admin.Handle("GET "+rollup.Path, usageAdmin(usage))
	if err := admin.Start(cfg.Storage.DBPath, cfg.Server.AdminAddr); err != nil {
		return fmt.Errorf("starting the local admin endpoint: %w", err)
	}
	c.add(func(context.Context) error { return admin.Close() })
	rf["ADMIN_ADDR"] = admin.Addr()

	listeners, err := listen(cfg, srv)
	if err != nil {
		closeUnclaimed()
		return err
	}
	err = startMetrics(cfg, srv, &c, log)
	closeUnclaimed()
	if err != nil {
		closeAll(listeners)
		return err
	}
	errc := make(chan error, len(listeners))
	for _, l := range listeners {
		go func() { errc <- srv.Serve(l.ln) }()
		logListening(log, l, cfg)
		rf[l.readyKey()] = l.ln.Addr().String()
	}
	if err := rf.write(readyPath); err != nil {
		return err
	}
	log.Info("proxy ready", "tokens", srv.Tokens(), "builtin_plugins", builtinPlugins(), "providers", len(cfg.Providers),
		"session_backend", cfg.Session.Backend, "synced_from", redactedURL(cfg.Remote.URL),
		"took", time.Since(began).Round(time.Millisecond).String())
	if disp != nil {
		emitStart(disp, "proxy", log)
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down: finishing in-flight requests", "timeout", cfg.Server.ShutdownTimeout.D().String())
	case err := <-errc:
		if err != nil {
			return fmt.Errorf("serving: %w", err)
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout.D())
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown did not finish cleanly", "error", err)
	}
	// The closing steps get their own time: the drain may have used all of
	// sctx, and flushing memory files and usage counters must still happen.
	cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer ccancel()
	c.close(cctx, log)
	c.closers = nil
	log.Info("proxy stopped")
	return nil
}

// openServerStore opens the token database for a server, or says clearly
// that another server already holds it.
func openServerStore(cfg *config.Config, log hclog.Logger) (*store.DB, error) {
	db, err := openStore(cfg, log)
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("%w: another tokenomics server (serve or remote) is already using it; give this one its own storage.db_path", err)
	}
	return db, err
}

type listener struct {
	ln     net.Listener
	scheme string
}

func listen(cfg *config.Config, srv *proxy.Server) ([]listener, error) {
	var out []listener
	if p := cfg.Server.HTTPPort; p > 0 {
		ln, err := listenTCP(net.JoinHostPort(cfg.Server.Host, strconv.Itoa(p)))
		if err != nil {
			return nil, fmt.Errorf("listening on server.http_port %d: %w", p, err)
		}
		out = append(out, listener{ln, "http"})
	}
	if p := cfg.Server.HTTPSPort; p > 0 && cfg.Server.TLS.Enabled {
		ln, err := listenTCP(net.JoinHostPort(cfg.Server.Host, strconv.Itoa(p)))
		if err != nil {
			closeAll(out)
			return nil, fmt.Errorf("listening on server.https_port %d: %w", p, err)
		}
		tln, err := srv.ListenTLS(ln)
		if err != nil {
			_ = ln.Close()
			closeAll(out)
			return nil, err
		}
		out = append(out, listener{tln, "https+http"})
	}
	if len(out) == 0 {
		return nil, errors.New("no listener: set server.http_port or server.https_port with tls.enabled")
	}
	return out, nil
}

// readyKey names the listener in the --ready-file.
func (l listener) readyKey() string {
	if l.scheme == "http" {
		return "HTTP_ADDR"
	}
	return "HTTPS_ADDR"
}

// logListening says where the proxy accepts connections, with TLS, and
// warns when that is every network interface.
func logListening(log hclog.Logger, l listener, cfg *config.Config) {
	kv := []any{"addr", l.ln.Addr().String(), "scheme", l.scheme}
	if l.scheme != "http" {
		t := cfg.Server.TLS
		if t.CertFile != "" {
			kv = append(kv, "cert_file", t.CertFile)
		} else {
			kv = append(kv, "cert_dir", cfg.Abs(t.CertDir), "auto_gen", t.AutoGen)
		}
	}
	log.Info("listening", kv...)
	if everyInterface(l.ln.Addr()) {
		log.Warn("listening on every network interface; set server.host: 127.0.0.1 to accept only local clients", "addr", l.ln.Addr().String())
	}
}

// builtinPlugins counts the embedded rule plugins.
func builtinPlugins() int {
	m, _ := fs.Glob(plugins.FS, "*.wasm")
	return len(m)
}

func closeAll(ls []listener) {
	for _, l := range ls {
		_ = l.ln.Close()
	}
}

// newLimiter builds the session backend: memory (usage persisted to the
// token database) or Redis, wrapped in the configured fail mode.
func newLimiter(cfg *config.Config, db *store.DB, log hclog.Logger) (limits.Limiter, error) {
	persister, err := limits.NewBoltPersister(db.Bolt(), "usage")
	if err != nil {
		return nil, fmt.Errorf("opening usage counters: %w", err)
	}
	mem, err := limits.NewMemory(limits.MemoryOptions{Logger: log, Persister: persister})
	if err != nil {
		return nil, fmt.Errorf("loading usage counters: %w", err)
	}
	mem.StartPersist(cfg.Session.PersistInterval.D())
	if cfg.Session.Backend != config.BackendRedis {
		return mem, nil
	}
	rc := cfg.Session.Redis
	client := redis.NewUniversalClient(redisOptions(cfg))
	inst, err := instanceID(cfg.Storage.DBPath)
	if err != nil {
		return nil, err
	}
	red, err := limits.NewRedis(client, limits.RedisOptions{Timeout: rc.Timeout.D(), Instance: inst})
	if err != nil {
		return nil, fmt.Errorf("session.redis: %w", err)
	}
	// A previous run killed with requests in flight left leases holding
	// max_parallel slots and reservations: free them now, each billing what
	// it last reported, rather than waiting for them to expire.
	rctx, rcancel := context.WithTimeout(context.Background(), 10*time.Second)
	freed, err := red.ReleaseOrphans(rctx)
	rcancel()
	switch {
	case err != nil:
		log.Warn("could not free the leases of a previous run; they expire after session.lease_ttl", "error", err)
	case freed > 0:
		log.Info("freed leases left by a previous run", "instance", inst, "leases", freed)
	}
	mode, err := limits.ParseFailMode(cfg.Session.FailMode)
	if err != nil {
		return nil, fmt.Errorf("session.fail_mode: %w", err)
	}
	return limits.NewFailover(red, mem, mode, log), nil
}

// newDispatcher sends events to events.webhooks; nil when none are set.
// Proxies keep alert deliveries in memory; central passes its database
// for a durable outbox. dir is the way its deliveries go between
// Tokenomics servers (events.DirPush from central, DirReport from a proxy).
func newDispatcher(cfg *config.Config, db *store.DB, dir events.Direction, log hclog.Logger) (*events.Dispatcher, error) {
	if len(cfg.Events.Webhooks) == 0 {
		return nil, nil
	}
	dc := events.DispatcherConfig{QueueSize: cfg.Events.QueueSize}
	if db != nil {
		// The central server's pushes say "sync now": a proxy that was
		// unreachable hears of the next change at once, not after backoff.
		dc.DB, dc.WakeOnEmit = db.Bolt(), true
	}
	dc.Targets = webhookTargets(cfg, dir)
	d, err := events.NewDispatcher(log, dc)
	if err != nil {
		return nil, fmt.Errorf("events.webhooks: %w", err)
	}
	if err := d.Start(); err != nil {
		return nil, fmt.Errorf("starting event delivery: %w", err)
	}
	return d, nil
}

func emitterOrNil(d *events.Dispatcher) proxy.Emitter {
	if d == nil {
		return nil
	}
	return d
}

func emitStart(d *events.Dispatcher, role string, log hclog.Logger) {
	ev, err := events.New(events.ServerStart, events.ProxySource(hostname()), 0, events.ServerData{Role: role, Version: currentBuild().Version})
	if err != nil {
		log.Warn("building server.start event", "error", err)
		return
	}
	d.Emit(ev)
}

// ruleHostConfig maps the plugins: section onto the rule host's limits.
func ruleHostConfig(cfg *config.Config) rules.Config {
	pc := cfg.Plugins
	return rules.Config{Builtins: plugins.FS, CacheDir: cfg.Abs(pc.CacheDir), PoolSize: pc.PoolSize,
		CallTimeout: pc.CallTimeout.D(), InitTimeout: pc.InitTimeout.D(), PoolWait: pc.PoolWait.D(),
		MemoryLimitPages: pc.MemoryPages}
}

func mustWD() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	return wd
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}
