package metrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// maxLabels bounds the label count so a label set fits in a map key array.
const maxLabels = 4

type labelKey [maxLabels]string

// Registry holds metric families in registration order.
type Registry struct {
	mu       sync.Mutex
	families []family
	names    map[string]bool
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{names: map[string]bool{}} }

type family interface {
	write(w *bufio.Writer)
}

func (r *Registry) add(name string, f family) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.names[name] {
		panic("metrics: duplicate metric " + name) // programmer error at registration
	}
	r.names[name] = true
	r.families = append(r.families, f)
}

// WriteText writes every family in the Prometheus text format.
func (r *Registry) WriteText(w io.Writer) error {
	r.mu.Lock()
	fams := append([]family(nil), r.families...)
	r.mu.Unlock()
	bw := bufio.NewWriter(w)
	for _, f := range fams {
		f.write(bw)
	}
	return bw.Flush()
}

// vec is the label-set index shared by every metric kind.
type vec[T any] struct {
	name, help, kind string
	labels           []string
	mu               sync.RWMutex
	series           map[labelKey]*T
	mk               func() *T
}

func newVec[T any](name, help, kind string, labels []string, mk func() *T) *vec[T] {
	if len(labels) > maxLabels {
		panic("metrics: too many labels for " + name)
	}
	return &vec[T]{name: name, help: help, kind: kind, labels: labels, series: map[labelKey]*T{}, mk: mk}
}

func (v *vec[T]) with(values []string) *T {
	if len(values) != len(v.labels) {
		panic(fmt.Sprintf("metrics: %s wants %d label values, got %d", v.name, len(v.labels), len(values)))
	}
	var k labelKey
	copy(k[:], values)
	v.mu.RLock()
	s := v.series[k]
	v.mu.RUnlock()
	if s != nil {
		return s
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if s = v.series[k]; s == nil {
		s = v.mk()
		v.series[k] = s
	}
	return s
}

// sorted returns the label sets in a stable order for exposition.
func (v *vec[T]) sorted() ([]labelKey, []*T) {
	v.mu.RLock()
	keys := make([]labelKey, 0, len(v.series))
	for k := range v.series {
		keys = append(keys, k)
	}
	v.mu.RUnlock()
	sort.Slice(keys, func(i, j int) bool {
		return strings.Join(keys[i][:], "\x00") < strings.Join(keys[j][:], "\x00")
	})
	vals := make([]*T, len(keys))
	v.mu.RLock()
	for i, k := range keys {
		vals[i] = v.series[k]
	}
	v.mu.RUnlock()
	return keys, vals
}

func (v *vec[T]) header(w *bufio.Writer) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", v.name, v.help, v.name, v.kind)
}

func (v *vec[T]) labelString(k labelKey, extra ...string) string {
	var b strings.Builder
	n := 0
	for i, name := range v.labels {
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteString(name)
		b.WriteString(`="`)
		b.WriteString(escape(k[i]))
		b.WriteByte('"')
		n++
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteString(extra[i])
		b.WriteString(`="`)
		b.WriteString(extra[i+1])
		b.WriteByte('"')
		n++
	}
	if n == 0 {
		return ""
	}
	return "{" + b.String() + "}"
}

func escape(s string) string {
	if !strings.ContainsAny(s, "\\\"\n") {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// Counter only goes up.
type Counter struct{ v atomic.Int64 }

// Inc adds one.
func (c *Counter) Inc() { c.v.Add(1) }

// Add adds n (n >= 0).
func (c *Counter) Add(n int64) { c.v.Add(n) }

// Value reads the counter (tests and reports).
func (c *Counter) Value() int64 { return c.v.Load() }

// CounterVec is a counter family with labels.
type CounterVec struct{ v *vec[Counter] }

// NewCounter registers a counter family.
func (r *Registry) NewCounter(name, help string, labels ...string) *CounterVec {
	cv := &CounterVec{v: newVec(name, help, "counter", labels, func() *Counter { return &Counter{} })}
	r.add(name, cv)
	return cv
}

// With returns the series for the label values, creating it once.
func (c *CounterVec) With(values ...string) *Counter { return c.v.with(values) }

func (c *CounterVec) write(w *bufio.Writer) {
	c.v.header(w)
	keys, vals := c.v.sorted()
	for i, k := range keys {
		fmt.Fprintf(w, "%s%s %d\n", c.v.name, c.v.labelString(k), vals[i].Value())
	}
}

// Gauge goes up and down.
type Gauge struct{ bits atomic.Uint64 }

// Set stores v.
func (g *Gauge) Set(v float64) { g.bits.Store(math.Float64bits(v)) }

// Add adds d atomically.
func (g *Gauge) Add(d float64) {
	for {
		old := g.bits.Load()
		if g.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+d)) {
			return
		}
	}
}

// Value reads the gauge.
func (g *Gauge) Value() float64 { return math.Float64frombits(g.bits.Load()) }

// GaugeVec is a gauge family with labels.
type GaugeVec struct{ v *vec[Gauge] }

// NewGauge registers a gauge family.
func (r *Registry) NewGauge(name, help string, labels ...string) *GaugeVec {
	gv := &GaugeVec{v: newVec(name, help, "gauge", labels, func() *Gauge { return &Gauge{} })}
	r.add(name, gv)
	return gv
}

// With returns the series for the label values.
func (g *GaugeVec) With(values ...string) *Gauge { return g.v.with(values) }

func (g *GaugeVec) write(w *bufio.Writer) {
	g.v.header(w)
	keys, vals := g.v.sorted()
	for i, k := range keys {
		fmt.Fprintf(w, "%s%s %s\n", g.v.name, g.v.labelString(k), formatFloat(vals[i].Value()))
	}
}

// Histogram counts observations into fixed buckets.
type Histogram struct {
	bounds []float64
	counts []atomic.Uint64
	count  atomic.Uint64
	sum    Gauge
}

// Observe records one value.
func (h *Histogram) Observe(v float64) {
	i := sort.SearchFloat64s(h.bounds, v)
	if i < len(h.counts) {
		h.counts[i].Add(1)
	}
	h.count.Add(1)
	h.sum.Add(v)
}

// Count is the number of observations.
func (h *Histogram) Count() uint64 { return h.count.Load() }

// HistogramVec is a histogram family with labels.
type HistogramVec struct {
	v      *vec[Histogram]
	bounds []float64
}

// DefBuckets suit latencies in seconds from 100 µs to 60 s.
var DefBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// NewHistogram registers a histogram family with ascending bucket bounds.
func (r *Registry) NewHistogram(name, help string, bounds []float64, labels ...string) *HistogramVec {
	b := append([]float64(nil), bounds...)
	hv := &HistogramVec{bounds: b}
	hv.v = newVec(name, help, "histogram", labels, func() *Histogram {
		return &Histogram{bounds: b, counts: make([]atomic.Uint64, len(b))}
	})
	r.add(name, hv)
	return hv
}

// With returns the series for the label values.
func (h *HistogramVec) With(values ...string) *Histogram { return h.v.with(values) }

func (h *HistogramVec) write(w *bufio.Writer) {
	h.v.header(w)
	keys, vals := h.v.sorted()
	for i, k := range keys {
		hist := vals[i]
		var cum uint64
		for j, b := range h.bounds {
			cum += hist.counts[j].Load()
			fmt.Fprintf(w, "%s_bucket%s %d\n", h.v.name, h.v.labelString(k, "le", formatFloat(b)), cum)
		}
		fmt.Fprintf(w, "%s_bucket%s %d\n", h.v.name, h.v.labelString(k, "le", "+Inf"), hist.Count())
		fmt.Fprintf(w, "%s_sum%s %s\n", h.v.name, h.v.labelString(k), formatFloat(hist.sum.Value()))
		fmt.Fprintf(w, "%s_count%s %d\n", h.v.name, h.v.labelString(k), hist.Count())
	}
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
