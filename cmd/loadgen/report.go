package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Run is one workload's summary.
type Run struct {
	Name    string   `json:"name"`
	Target  string   `json:"target"` // targetDirect, targetPlain or targetContractor
	Clients int      `json:"clients"`
	Stream  bool     `json:"stream"`
	Round   int      `json:"round,omitempty"` // 1-based; 0 in reports of one round
	Total   Summary  `json:"latency"`         // whole request or stream
	TTFB    *Summary `json:"ttfb,omitempty"`  // streams only
	Error   string   `json:"first_error,omitempty"`
	// PeakRSS is serve's peak resident memory (VmHWM) over its process,
	// which served this run only; 0 for direct runs.
	PeakRSS int64 `json:"serve_peak_rss_bytes,omitempty"`
}

// Ratio compares a proxied run with the direct run of the same kind
// (streamed or not, same clients).
type Ratio struct {
	Run       string  `json:"run"`
	Target    string  `json:"target"`
	Stream    bool    `json:"stream"`
	Clients   int     `json:"clients"`
	RPS       float64 `json:"rps"`
	DirectRPS float64 `json:"direct_rps"`
	// OfDirect is RPS / DirectRPS, 0 without a direct rate.
	OfDirect float64 `json:"of_direct"`
	// Added latency (proxy - direct): the whole request or stream, and for
	// streams the first byte.
	AddedP50     time.Duration `json:"added_p50_ns"`
	AddedP99     time.Duration `json:"added_p99_ns"`
	AddedTTFBP50 time.Duration `json:"added_ttfb_p50_ns,omitempty"`
	PeakRSS      int64         `json:"serve_peak_rss_bytes,omitempty"`
	Round        int           `json:"round,omitempty"` // of a round's ratio; 0 in the medians
	// Rounds is how many rounds the figures are the median of (the peak
	// RSS: the highest); 0 or 1 for one.
	Rounds int `json:"rounds,omitempty"`
}

// Target is one PASS/MISS line.
type Target struct {
	Name   string `json:"name"`
	Pass   bool   `json:"pass"`
	Detail string `json:"detail"`
}

// Machine describes where the figures come from.
type Machine struct {
	NumCPU     int    `json:"nproc"`
	CPU        string `json:"cpu"`
	Go         string `json:"go"`
	LoadBefore string `json:"loadavg_before"`
	LoadAfter  string `json:"loadavg_after"`
	Pinned     string `json:"pinned,omitempty"` // which process ran on which CPU; empty: not pinned
}

// Report is results.json.
type Report struct {
	Time      time.Time     `json:"time"`
	Machine   Machine       `json:"machine"`
	Clients   []int         `json:"clients"`
	Duration  time.Duration `json:"duration_ns"`
	Warmup    time.Duration `json:"warmup_ns"`
	BodyBytes int           `json:"request_body_bytes"`
	Tokens    int           `json:"tokens"` // tokens in the database serve loads
	Rounds    int           `json:"rounds"` // times the matrix ran
	Startup   Startup       `json:"startup"`
	Runs      []Run         `json:"runs"`
	// RoundRatios pair each proxied run with the direct run of its own
	// round; Ratios are their medians per run over the rounds, which the
	// targets are checked on.
	RoundRatios []Ratio  `json:"round_ratios,omitempty"`
	Ratios      []Ratio  `json:"ratios"`
	Targets     []Target `json:"targets"`
	Profiles    []string `json:"cpu_profiles"`
}

// Startup is how long serve took from its start to answer /ready 200, and
// until /ready counted no rule set still loading. Cold is the first start,
// with an empty plugins.cache_dir; warm are the starts of the proxied runs,
// which load the compiled plugins from it.
type Startup struct {
	ColdReady time.Duration   `json:"cold_ready_ns"`
	ColdRules time.Duration   `json:"cold_rules_loaded_ns"`
	WarmReady []time.Duration `json:"warm_ready_ns"`
	WarmRules []time.Duration `json:"warm_rules_loaded_ns"`
}

// startTimes is one start of serve.
type startTimes struct{ ready, rules time.Duration }

// Targets of issue #17, met in one pinned run on the 2-CPU machine.
const (
	minContractorOfDirect = 0.33
	minPlainOfDirect      = 0.45
	maxAddedP50           = time.Millisecond
	maxPeakRSS            = 64 << 20
	maxWarmReady          = 300 * time.Millisecond
	maxColdReady          = 2 * time.Second
)

// compare fills Ratios and Targets from the runs present.
func (r *Report) compare() {
	r.RoundRatios = ratios(r.Runs)
	r.Ratios = medianRatios(r.RoundRatios)
	r.Targets = append(targets(r.Ratios, r.Clients, r.Tokens), startupTargets(r.Startup)...)
}

// startupTargets checks serve's start against issue #17: /ready within
// 300 ms from a warm compile cache (the median of the warm starts) and
// within 2 s cold. How long the rules took to load is reported alongside.
func startupTargets(st Startup) []Target {
	var out []Target
	if st.ColdReady > 0 {
		out = append(out, Target{Name: "serve /ready after start, cold plugin cache <= 2s", Pass: st.ColdReady <= maxColdReady,
			Detail: fmt.Sprintf("%s (rules loaded after %s)", ms(st.ColdReady), ms(st.ColdRules))})
	}
	if len(st.WarmReady) > 0 {
		med, top := medianMax(st.WarmReady)
		rmed, rtop := medianMax(st.WarmRules)
		out = append(out, Target{Name: "serve /ready after start, warm plugin cache <= 300ms", Pass: med <= maxWarmReady,
			Detail: fmt.Sprintf("median %s, max %s of %d starts (rules loaded: median %s, max %s)",
				ms(med), ms(top), len(st.WarmReady), ms(rmed), ms(rtop))})
	}
	return out
}

// medianMax is the median (upper for an even count) and the maximum.
func medianMax(ds []time.Duration) (med, top time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2], s[len(s)-1]
}

// ratios pairs every proxied run with the direct run of the same kind and
// round.
func ratios(runs []Run) []Ratio {
	var out []Ratio
	for i := range runs {
		pr := &runs[i]
		if pr.Target == targetDirect {
			continue
		}
		var dr *Run
		for j := range runs {
			if d := &runs[j]; d.Target == targetDirect && d.Stream == pr.Stream && d.Clients == pr.Clients && d.Round == pr.Round {
				dr = d
				break
			}
		}
		if dr == nil {
			continue
		}
		q := Ratio{Run: pr.Name, Target: pr.Target, Stream: pr.Stream, Clients: pr.Clients, Round: pr.Round,
			RPS: pr.Total.RPS, DirectRPS: dr.Total.RPS, PeakRSS: pr.PeakRSS,
			AddedP50: pr.Total.P50 - dr.Total.P50, AddedP99: pr.Total.P99 - dr.Total.P99}
		if dr.Total.RPS > 0 {
			q.OfDirect = pr.Total.RPS / dr.Total.RPS
		}
		if pr.TTFB != nil && dr.TTFB != nil {
			q.AddedTTFBP50 = pr.TTFB.P50 - dr.TTFB.P50
		}
		out = append(out, q)
	}
	return out
}

// medianRatios folds the ratios of one run name over its rounds into one:
// each figure is the median of the rounds' (the mean of the middle two for
// an even count), the peak RSS the highest. The order is the first round's.
func medianRatios(rs []Ratio) []Ratio {
	var order []string
	byRun := map[string][]Ratio{}
	for _, q := range rs {
		if _, seen := byRun[q.Run]; !seen {
			order = append(order, q.Run)
		}
		byRun[q.Run] = append(byRun[q.Run], q)
	}
	out := make([]Ratio, 0, len(order))
	for _, name := range order {
		qs := byRun[name]
		m := qs[0]
		m.Rounds = len(qs)
		if len(qs) > 1 {
			m.Round = 0
			m.RPS = median(qs, func(q Ratio) float64 { return q.RPS })
			m.DirectRPS = median(qs, func(q Ratio) float64 { return q.DirectRPS })
			m.OfDirect = median(qs, func(q Ratio) float64 { return q.OfDirect })
			m.AddedP50 = time.Duration(median(qs, func(q Ratio) float64 { return float64(q.AddedP50) }))
			m.AddedP99 = time.Duration(median(qs, func(q Ratio) float64 { return float64(q.AddedP99) }))
			m.AddedTTFBP50 = time.Duration(median(qs, func(q Ratio) float64 { return float64(q.AddedTTFBP50) }))
			for _, q := range qs {
				m.PeakRSS = max(m.PeakRSS, q.PeakRSS)
			}
		}
		out = append(out, m)
	}
	return out
}

// median of one figure of the ratios: the middle value, or the mean of the
// middle two.
func median(qs []Ratio, f func(Ratio) float64) float64 {
	v := make([]float64, len(qs))
	for i, q := range qs {
		v[i] = f(q)
	}
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// targets checks the ratios against issue #17's targets: throughput at
// every client count of the matrix (not the one-client runs, which measure
// latency), the added median at the first client count, and serve's peak
// memory with the contractor policy.
func targets(rs []Ratio, clients []int, tokens int) []Target {
	var out []Target
	var peak int64
	for _, q := range rs {
		if q.Target == targetContractor && q.PeakRSS > peak {
			peak = q.PeakRSS
		}
		if !slices.Contains(clients, q.Clients) {
			continue
		}
		switch q.Target {
		case targetContractor:
			out = append(out, throughputTarget(q, minContractorOfDirect))
			if !q.Stream && len(clients) > 0 && q.Clients == clients[0] {
				out = append(out, addedP50Target(q.AddedP50, q.Clients))
			}
		case targetPlain:
			out = append(out, throughputTarget(q, minPlainOfDirect))
		}
	}
	if peak > 0 {
		t := Target{Name: fmt.Sprintf("serve peak RSS, contractor policy, %d tokens loaded <= 64 MiB", tokens),
			Pass: peak <= maxPeakRSS, Detail: mib(peak)}
		if tokens < 10_000 {
			t.Name += " (the target is for 10,000)"
		}
		out = append(out, t)
	}
	return out
}

// throughputTarget: the proxied run keeps at least the share least of direct throughput.
func throughputTarget(q Ratio, least float64) Target {
	t := Target{Name: fmt.Sprintf("throughput %s >= %.2f of direct", q.Run, least)}
	if q.DirectRPS <= 0 {
		t.Detail = "no direct throughput"
		return t
	}
	t.Pass = q.OfDirect >= least
	t.Detail = fmt.Sprintf("%.0f req/s vs direct %.0f req/s: ratio %.3f", q.RPS, q.DirectRPS, q.OfDirect)
	if !t.Pass {
		t.Detail += fmt.Sprintf(", short by %.0f req/s", q.DirectRPS*least-q.RPS)
	}
	return t
}

// addedP50Target: the proxy adds under 1 ms at the median.
func addedP50Target(added time.Duration, clients int) Target {
	t := Target{Name: fmt.Sprintf("added p50 latency, %d clients, contractor policy < 1ms", clients)}
	t.Pass = added < maxAddedP50
	t.Detail = fmt.Sprintf("%+.3fms", float64(added)/float64(time.Millisecond))
	if !t.Pass {
		t.Detail += fmt.Sprintf(", over by %s", ms(added-maxAddedP50))
	}
	return t
}

// mib prints bytes in MiB with one decimal.
func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// ms prints a duration in milliseconds with three decimals.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond))
}

// printTables writes the readable report.
func (r *Report) printTables(w io.Writer) {
	fmt.Fprintf(w, "\nmachine: %d CPUs, %s, %s; load average before %s, after %s\n",
		r.Machine.NumCPU, r.Machine.CPU, r.Machine.Go, r.Machine.LoadBefore, r.Machine.LoadAfter)
	if r.Machine.Pinned != "" {
		fmt.Fprintf(w, "pinned: %s\n", r.Machine.Pinned)
	}
	fmt.Fprintf(w, "load: %v clients (c1 runs: 1), %s per run after a %s warm-up, %d-byte request body; %d tokens loaded\n\n",
		r.Clients, r.Duration, r.Warmup, r.BodyBytes, r.Tokens)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tround\tclients\treq/s\tp50\tp90\tp99\tp99.9\tmax\tok\terrors\t")
	for _, run := range r.Runs {
		s := run.Total
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t\n", run.Name, max(run.Round, 1), run.Clients, s.RPS,
			ms(s.P50), ms(s.P90), ms(s.P99), ms(s.P999), ms(s.Max), s.Count, s.Errors)
		if run.TTFB != nil {
			t := run.TTFB
			fmt.Fprintf(tw, "  time to first byte\t\t\t\t%s\t%s\t%s\t%s\t%s\t\t\t\n",
				ms(t.P50), ms(t.P90), ms(t.P99), ms(t.P999), ms(t.Max))
		}
	}
	_ = tw.Flush()
	for _, run := range r.Runs {
		if run.Error != "" {
			fmt.Fprintf(w, "first error in %s (round %d): %s\n", run.Name, max(run.Round, 1), run.Error)
		}
	}
	if len(r.Ratios) > 0 {
		if r.Rounds > 1 {
			fmt.Fprintf(w, "\nproxy against direct, each round against its own direct run, median of %d rounds (peak RSS: highest):\n", r.Rounds)
			printRatios(w, r.RoundRatios)
			fmt.Fprintln(w, "\nmedians:")
		} else {
			fmt.Fprintln(w, "\nproxy against direct (same clients, same kind; added = proxy - direct):")
		}
		printRatios(w, r.Ratios)
	}
	if len(r.Targets) > 0 {
		fmt.Fprintln(w)
		for _, t := range r.Targets {
			verdict := "MISS"
			if t.Pass {
				verdict = "PASS"
			}
			fmt.Fprintf(w, "%s  %s: %s\n", verdict, t.Name, t.Detail)
		}
	}
}

// printRatios writes one table of proxy-against-direct figures, with the
// round each row is from ("all": a median over rounds).
func printRatios(w io.Writer, rs []Ratio) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tround\t÷ direct\tadded p50\tadded p99\tadded ttfb p50\tserve peak RSS\t")
	for _, q := range rs {
		ttfb := ""
		if q.Stream {
			ttfb = fmt.Sprintf("%+.3fms", float64(q.AddedTTFBP50)/float64(time.Millisecond))
		}
		round := strconv.Itoa(max(q.Round, 1))
		if q.Rounds > 1 {
			round = "all"
		}
		fmt.Fprintf(tw, "%s\t%s\t%.3f\t%+.3fms\t%+.3fms\t%s\t%s\t\n", q.Run, round, q.OfDirect,
			float64(q.AddedP50)/float64(time.Millisecond), float64(q.AddedP99)/float64(time.Millisecond), ttfb, mib(q.PeakRSS))
	}
	_ = tw.Flush()
}

// writeJSON writes results.json.
func (r *Report) writeJSON(path string) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep ">=" readable in the target details
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("encoding the results: %w", err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// machine reads the CPU model and load average from /proc (Linux; elsewhere
// they stay empty).
func machine() Machine {
	m := Machine{NumCPU: runtime.NumCPU(), Go: runtime.Version(), LoadBefore: loadavg()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

// peakRSS is a process's peak resident memory (VmHWM), 0 where /proc has
// none.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
