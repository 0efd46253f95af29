package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// What a run sends its requests to; a run's name is its target, "-stream"
// for streamed runs, and "-c" and its number of clients.
const (
	targetDirect     = "direct"           // the fake upstream itself
	targetPlain      = "proxy-norules"    // serve, a token without rules
	targetContractor = "proxy-contractor" // serve, the contractor policy's rules
)

// runName is the name of one cell of the matrix.
func runName(target string, stream bool, clients int) string {
	s := ""
	if stream {
		s = "-stream"
	}
	return fmt.Sprintf("%s%s-c%d", target, s, clients)
}

// CPUs of the pinned mode: the load generator alone on one, the fake
// upstream and serve sharing the other (as an upstream and its gateway on
// one small host would).
const (
	loadCPU   = 0
	serverCPU = 1
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the command-line flags.
type options struct {
	clients   []int
	pin       bool
	duration  time.Duration
	warmup    time.Duration
	maxTokens int
	out       string
	bin       string
	fake      string
	goTool    string
	keep      bool
	single    bool
	tokens    int
	rounds    int
	only      *regexp.Regexp // cells to run, by name; nil runs all
	smaps     bool           // sample serve's memory map and keep the breakdown at its peak
	heap      bool           // serve writes a heap profile at shutdown
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	clients := fs.String("c", "32", "concurrent clients (one keep-alive connection each); a comma-separated list runs every cell at each")
	fs.BoolVar(&o.pin, "pin", false, "pin loadgen to CPU 0 and the fake upstream and serve to CPU 1 (Linux, two CPUs or more)")
	fs.DurationVar(&o.duration, "d", 10*time.Second, "measured duration of each run")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured warm-up before each run")
	fs.IntVar(&o.maxTokens, "max-tokens", 128, "max_tokens of each request (reply length, stream frames)")
	fs.StringVar(&o.out, "out", "bin/bench-load", "output directory: results.json and the CPU profiles")
	fs.StringVar(&o.bin, "tokenomics", "bin/tokenomics", "tokenomics binary")
	fs.StringVar(&o.fake, "fake", "bin/fakeupstream", "fakeupstream binary")
	fs.StringVar(&o.goTool, "go", "go", "go command, for `go tool pprof`")
	fs.BoolVar(&o.keep, "keep", false, "keep the proxy's working directory")
	fs.BoolVar(&o.single, "c1", true, "also run direct and contractor with one client (latency without queueing)")
	fs.IntVar(&o.tokens, "tokens", 10_000, "tokens in serve's database (the two the runs use, the rest nine in ten contractor, one in ten without rules)")
	fs.IntVar(&o.rounds, "rounds", 1, "run the whole matrix this many times, one round after another; ratios and added latencies are the median over rounds of each round's proxy-against-direct figure (the VM's throughput drifts between minutes)")
	only := fs.String("only", "", "run only the cells whose name matches this regular expression (e.g. 'contractor-stream-c128'); targets are judged on what ran")
	fs.BoolVar(&o.smaps, "smaps", false, "sample serve's /proc/PID/smaps every 50 ms and print where its memory was at the highest sample")
	fs.BoolVar(&o.heap, "heap", false, "serve writes a heap profile per run (heap-<run>.pprof in -out; sampled every 4 KB)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			return o, fmt.Errorf("-only: %w", err)
		}
		o.only = re
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for f := range strings.SplitSeq(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return o, fmt.Errorf("-c %q: want positive numbers separated by commas", *clients)
		}
		o.clients = append(o.clients, n)
	}
	if o.duration <= 0 || o.warmup < 0 || o.maxTokens < 1 || o.tokens < 2 || o.rounds < 1 {
		return o, fmt.Errorf("-d, -max-tokens and -rounds must be positive, -warmup not negative, -tokens at least 2")
	}
	if o.pin && !pinSupported {
		return o, fmt.Errorf("-pin needs Linux")
	}
	return o, nil
}

// run is the whole benchmark; it returns the exit code: 2 for bad flags, 1
// when the benchmark cannot run. A missed target is not a failure.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 2
	}
	if err := benchmark(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 1
	}
	return 0
}

func benchmark(ctx context.Context, o options, stdout, stderr io.Writer) error {
	for _, p := range []*string{&o.out, &o.bin, &o.fake} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return fmt.Errorf("resolving %q: %w", *p, err)
		}
		*p = abs
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", o.out, err)
	}
	dir, err := os.MkdirTemp("", "tokenomics-bench-load-")
	if err != nil {
		return fmt.Errorf("creating the working directory: %w", err)
	}
	if o.keep {
		fmt.Fprintln(stderr, "working directory:", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	childCPU := noCPU
	pinned := ""
	if o.pin {
		if err := pinSelf(loadCPU); err != nil {
			return err
		}
		childCPU = serverCPU
		pinned = fmt.Sprintf("loadgen on CPU %d; fakeupstream and serve on CPU %d", loadCPU, serverCPU)
		fmt.Fprintln(stderr, "pinned:", pinned)
	}

	// -record -1: the fake keeps no request log, which would cost it CPU.
	fake, fakeURL, err := startProcess("fakeupstream", dir, []string{"PATH=" + os.Getenv("PATH")}, childCPU, true, o.fake,
		"-addr", "127.0.0.1:0", "-record", "-1", "-openai-key", fakeOpenAIKey, "-anthropic-key", fakeAnthropicKey)
	if err != nil {
		return err
	}
	defer func() { _ = fake.stop(10 * time.Second) }()

	b, err := newBench(dir, o.bin, fakeURL, childCPU)
	if err != nil {
		return err
	}
	plain, err := b.createToken(noRulesPolicy)
	if err != nil {
		return err
	}
	contractor, err := b.createToken(contractorPolicy)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "adding %d tokens\n", o.tokens-2)
	if err := b.fillTokens(o.tokens - 2); err != nil {
		return err
	}

	body, streamBody := chatBody(o.maxTokens, false), chatBody(o.maxTokens, true)
	const path = "/v1/chat/completions"
	direct := fakeURL + path
	viaProxy := b.url() + path
	targets := []struct {
		name string
		t    target
	}{
		{targetDirect, target{url: direct, auth: "Bearer " + fakeOpenAIKey}},
		{targetPlain, target{url: viaProxy, proxied: true, auth: "Bearer " + plain}},
		{targetContractor, target{url: viaProxy, proxied: true, auth: "Bearer " + contractor}},
	}
	type spec struct {
		name, target string
		t            target
		clients      int
		top          bool // print the profile's top
	}
	// Every target at every client count, non-streamed then streamed;
	// the profiles of the first client count get their top printed.
	var runs []spec
	for i, c := range o.clients {
		for _, stream := range []bool{false, true} {
			for _, tg := range targets {
				t := tg.t
				t.body, t.stream = body, stream
				if stream {
					t.body = streamBody
				}
				runs = append(runs, spec{runName(tg.name, stream, c), tg.name, t, c, i == 0 && t.proxied})
			}
		}
	}
	if o.single {
		for _, tg := range []int{0, 2} { // direct and contractor, non-streamed
			t := targets[tg].t
			t.body = body
			runs = append(runs, spec{runName(targets[tg].name, false, 1), targets[tg].name, t, 1, false})
		}
	}
	if o.only != nil {
		runs = slices.DeleteFunc(runs, func(r spec) bool { return !o.only.MatchString(r.name) })
		if len(runs) == 0 {
			return fmt.Errorf("-only %q matches no cell", o.only)
		}
	}

	// The first serve compiles the rule plugins into the cache (its start
	// is the cold one); later ones load them from it, so the compilation
	// stays out of the profiles.
	fmt.Fprintln(stderr, "priming the plugin cache")
	srv, cold, err := b.serve("", "")
	if err != nil {
		return err
	}
	if err := srv.stop(30 * time.Second); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "cold start: /ready after %s, rules loaded after %s\n", ms(cold.ready), ms(cold.rules))

	rep := &Report{Time: time.Now().UTC(), Machine: machine(), Clients: o.clients, Duration: o.duration,
		Warmup: o.warmup, BodyBytes: len(body), Tokens: o.tokens, Rounds: o.rounds,
		Startup: Startup{ColdReady: cold.ready, ColdRules: cold.rules}}
	rep.Machine.Pinned = pinned
	var tops []string
	// Rounds run the whole matrix in turn rather than each cell N times
	// in a row, so that a drift of the host's speed over minutes hits the
	// direct and the proxied cells of a round alike.
	for round := 1; round <= o.rounds; round++ {
		for _, r := range runs {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			name := r.name
			if o.rounds > 1 {
				name = fmt.Sprintf("%s-r%d", r.name, round)
			}
			run, profile, st, err := measure(ctx, b, o, name, r.t, r.clients, stderr)
			if err != nil {
				return fmt.Errorf("run %s: %w", name, err)
			}
			if st.ready > 0 {
				rep.Startup.WarmReady = append(rep.Startup.WarmReady, st.ready)
				rep.Startup.WarmRules = append(rep.Startup.WarmRules, st.rules)
			}
			run.Name, run.Target, run.Round = r.name, r.target, round
			rep.Runs = append(rep.Runs, run)
			if profile != "" {
				rep.Profiles = append(rep.Profiles, profile)
				if r.top && round == o.rounds {
					tops = append(tops, profile)
				}
			}
		}
	}
	rep.Machine.LoadAfter = loadavg()
	rep.compare()
	rep.printTables(stdout)
	jsonPath := filepath.Join(o.out, "results.json")
	if err := rep.writeJSON(jsonPath); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\nresults:", jsonPath)
	for _, p := range tops {
		printTop(o, p, stdout, stderr)
	}
	return nil
}

// measure runs one workload; a proxied one gets a fresh serve process with
// its own CPU profile, stopped with SIGTERM so the profile is written.
func measure(ctx context.Context, b *bench, o options, name string, t target, clients int, stderr io.Writer) (Run, string, startTimes, error) {
	var srv *process
	var st startTimes
	profile := ""
	if t.proxied {
		profile = filepath.Join(o.out, "cpu-"+name+".pprof")
		var err error
		heap := ""
		if o.heap {
			heap = filepath.Join(o.out, "heap-"+name+".pprof")
		}
		if srv, st, err = b.serve(profile, heap); err != nil {
			return Run{}, "", st, err
		}
		defer srv.kill()
	}
	if err := probe(t); err != nil {
		return Run{}, "", st, err
	}
	fmt.Fprintf(stderr, "%s: %d clients, %s warm-up, %s measured\n", name, clients, o.warmup, o.duration)
	if o.warmup > 0 {
		if _, err := runLoad(ctx, t, clients, o.warmup); err != nil {
			return Run{}, "", st, err
		}
	}
	var sampler *peakSampler
	if srv != nil && o.smaps {
		sampler = samplePeak(srv.cmd.Process.Pid, o.bin, 50*time.Millisecond)
	}
	res, err := runLoad(ctx, t, clients, o.duration)
	if sampler != nil {
		sampler.stop().print(stderr, name)
	}
	if err != nil {
		return Run{}, "", st, err
	}
	var rss int64
	if srv != nil {
		rss = peakRSS(srv.cmd.Process.Pid) // before it exits
		if err := srv.stop(30 * time.Second); err != nil {
			return Run{}, "", st, err
		}
		// The tail of serve's log, for GODEBUG traces and warnings.
		_ = os.WriteFile(filepath.Join(o.out, "serve-"+name+".log"), []byte(srv.Logs()), 0o644)
	}
	run := Run{Name: name, Clients: clients, Stream: t.stream, Total: summarize(res.lat, res.errors, res.elapsed),
		Error: res.firstErr, PeakRSS: rss}
	if t.stream {
		s := summarize(res.ttfb, res.errors, res.elapsed)
		run.TTFB = &s
	}
	return run, profile, st, nil
}

// printTop prints `go tool pprof -top` of a profile; a failure is reported
// but does not fail the benchmark. The profile runs from serve's start, so
// the main goroutine's start-up and shutdown (runServe: loading the rule
// plugins from the cache, opening the database) are left out of the top.
func printTop(o options, profile string, stdout, stderr io.Writer) {
	args := []string{"tool", "pprof", "-top", "-nodecount=15", `-ignore=cli\.runServe$`, o.bin, profile}
	fmt.Fprintf(stdout, "\n%s %s\n", o.goTool, strings.Join(args, " "))
	cmd := exec.Command(o.goTool, args...)
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(stderr, "loadgen: go tool pprof %s: %v\n", profile, err)
	}
}
