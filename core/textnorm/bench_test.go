package textnorm

import (
	"strings"
	"syscall"
	"testing"
)

// benchTexts is a 2 KB chat request's texts: mostly English with a few
// non-ASCII characters (a name, a currency, a zero-width space), and one
// tool-arguments JSON with escapes.
func benchTexts() [][]byte {
	prose := strings.Repeat("Summarise the quarterly report for the finance team, keeping figures exact. ", 14)
	return [][]byte{
		[]byte("You are a helpful assistant for Zoë's team; answer in € where relevant."),
		[]byte(prose[:950] + "\u200b"),
		[]byte(prose[:900]),
		[]byte(`{"query":"revenue \u2014 Q3","limit":10,"filters":{"region":"EU"}}`),
	}
}

func benchNormalize(b *testing.B, texts [][]byte, json []bool) {
	total := 0
	for _, t := range texts {
		total += len(t)
	}
	var n Normalizer
	for i, t := range texts { // warm the rune caches, as a running proxy has
		n.Add(t, json[i])
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	// The machine is shared: besides wall time per op, report the CPU time
	// the process spent per op, which other processes do not inflate.
	before := cpuTime()
	for b.Loop() {
		n.Reset()
		for i, t := range texts {
			n.Add(t, json[i])
		}
	}
	b.ReportMetric(float64(cpuTime()-before)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's user and system time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func BenchmarkNormalize2KB(b *testing.B) {
	benchNormalize(b, benchTexts(), []bool{false, false, false, true})
}

func BenchmarkNormalize2KBASCII(b *testing.B) {
	prose := strings.Repeat("Summarise the quarterly report for the finance team, keeping figures exact. ", 28)
	benchNormalize(b, [][]byte{[]byte(prose[:2048])}, []bool{false})
}

func BenchmarkNormalize2KBNonLatin(b *testing.B) {
	text := strings.Repeat("Привет, как дела? Ｆｕｌｌｗｉｄｔｈ ", 40)
	benchNormalize(b, [][]byte{[]byte(text[:2048])}, []bool{false})
}
