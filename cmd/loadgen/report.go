package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// Run is one workload's summary.
type Run struct {
	Name    string   `json:"name"`
	Clients int      `json:"clients"`
	Stream  bool     `json:"stream"`
	Total   Summary  `json:"latency"`        // whole request or stream
	TTFB    *Summary `json:"ttfb,omitempty"` // streams only
	Error   string   `json:"first_error,omitempty"`
}

// Added is what the proxy adds over the direct run of the same kind.
type Added struct {
	Run string        `json:"run"`
	Of  string        `json:"of"` // "latency" or "ttfb"
	P50 time.Duration `json:"p50_ns"`
	P99 time.Duration `json:"p99_ns"`
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
}

// Report is results.json.
type Report struct {
	Time      time.Time     `json:"time"`
	Machine   Machine       `json:"machine"`
	Clients   int           `json:"clients"`
	Duration  time.Duration `json:"duration_ns"`
	Warmup    time.Duration `json:"warmup_ns"`
	BodyBytes int           `json:"request_body_bytes"`
	Runs      []Run         `json:"runs"`
	Added     []Added       `json:"added"`
	Targets   []Target      `json:"targets"`
	Profiles  []string      `json:"cpu_profiles"`
}

func (r *Report) run(name string) *Run {
	for i := range r.Runs {
		if r.Runs[i].Name == name {
			return &r.Runs[i]
		}
	}
	return nil
}

// compare fills Added and Targets from the runs present.
func (r *Report) compare() {
	pairs := []struct{ proxy, direct string }{
		{runNoRules, runDirect}, {runContractor, runDirect}, {runProxyStream, runDirectStream},
		{runContractorOne, runDirectOne},
	}
	for _, p := range pairs {
		pr, dr := r.run(p.proxy), r.run(p.direct)
		if pr == nil || dr == nil {
			continue
		}
		if pr.TTFB != nil && dr.TTFB != nil {
			r.Added = append(r.Added, Added{Run: p.proxy, Of: "ttfb", P50: pr.TTFB.P50 - dr.TTFB.P50, P99: pr.TTFB.P99 - dr.TTFB.P99})
		}
		r.Added = append(r.Added, Added{Run: p.proxy, Of: "latency", P50: pr.Total.P50 - dr.Total.P50, P99: pr.Total.P99 - dr.Total.P99})
	}
	c, d := r.run(runContractor), r.run(runDirect)
	if c == nil || d == nil {
		return
	}
	r.Targets = append(r.Targets, throughputTarget(c.Total.RPS, d.Total.RPS, r.Clients),
		addedP50Target(c.Total.P50-d.Total.P50, r.Clients))
}

// throughputTarget: the proxy with the contractor policy keeps at least a
// third of direct throughput (three processes share the cores).
func throughputTarget(proxy, direct float64, clients int) Target {
	t := Target{Name: fmt.Sprintf("throughput, %d clients, contractor policy >= 1/3 of direct", clients)}
	if direct <= 0 {
		t.Detail = "no direct throughput"
		return t
	}
	ratio := proxy / direct
	t.Pass = ratio >= 1.0/3
	t.Detail = fmt.Sprintf("%.0f req/s vs direct %.0f req/s: ratio %.3f (target >= 0.333)", proxy, direct, ratio)
	if !t.Pass {
		t.Detail += fmt.Sprintf(", short by %.0f req/s", direct/3-proxy)
	}
	return t
}

// addedP50Target: the proxy adds under 1 ms at the median.
func addedP50Target(added time.Duration, clients int) Target {
	t := Target{Name: fmt.Sprintf("added p50 latency, %d clients, contractor policy < 1ms", clients)}
	t.Pass = added < time.Millisecond
	t.Detail = fmt.Sprintf("+%s", ms(added))
	if !t.Pass {
		t.Detail += fmt.Sprintf(", over by %s", ms(added-time.Millisecond))
	}
	return t
}

// ms prints a duration in milliseconds with three decimals.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond))
}

// printTables writes the readable report.
func (r *Report) printTables(w io.Writer) {
	fmt.Fprintf(w, "\nmachine: %d CPUs, %s, %s; load average before %s, after %s\n",
		r.Machine.NumCPU, r.Machine.CPU, r.Machine.Go, r.Machine.LoadBefore, r.Machine.LoadAfter)
	fmt.Fprintf(w, "load: %d clients (c1 runs: 1), %s per run after a %s warm-up, %d-byte request body\n\n",
		r.Clients, r.Duration, r.Warmup, r.BodyBytes)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tclients\treq/s\tp50\tp90\tp99\tp99.9\tmax\tok\terrors\t")
	for _, run := range r.Runs {
		s := run.Total
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t\n", run.Name, run.Clients, s.RPS,
			ms(s.P50), ms(s.P90), ms(s.P99), ms(s.P999), ms(s.Max), s.Count, s.Errors)
		if run.TTFB != nil {
			t := run.TTFB
			fmt.Fprintf(tw, "  time to first byte\t\t\t%s\t%s\t%s\t%s\t%s\t\t\t\n",
				ms(t.P50), ms(t.P90), ms(t.P99), ms(t.P999), ms(t.Max))
		}
	}
	_ = tw.Flush()
	for _, run := range r.Runs {
		if run.Error != "" {
			fmt.Fprintf(w, "first error in %s: %s\n", run.Name, run.Error)
		}
	}
	if len(r.Added) > 0 {
		fmt.Fprintln(w, "\nadded by the proxy (proxy - direct):")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "run\tof\tp50\tp99\t")
		for _, a := range r.Added {
			fmt.Fprintf(tw, "%s\t%s\t%+.3fms\t%+.3fms\t\n", a.Run, a.Of,
				float64(a.P50)/float64(time.Millisecond), float64(a.P99)/float64(time.Millisecond))
		}
		_ = tw.Flush()
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
