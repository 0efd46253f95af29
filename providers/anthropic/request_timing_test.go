package anthropic_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/anthropic"
	"github.com/tokenomics-dev/tokenomics/providers/sse"
)

var benchSizes = []int{1 << 10, 16 << 10}

func BenchmarkParseRequest(b *testing.B) {
	for _, size := range benchSizes {
		body := messagesBody(size)
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := anthropic.ParseRequest(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRequestTexts(b *testing.B) {
	for _, size := range benchSizes {
		body := messagesBody(size)
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			var refs []providers.TextRef
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				var err error
				if refs, err = anthropic.RequestTexts(refs[:0], body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRewriteRequest(b *testing.B) {
	opt := anthropic.Rewrite{
		Model:            "claude-haiku-4-5",
		Prepend:          []providers.Message{{Role: "system", Content: "Only answer programming questions."}},
		DefaultMaxTokens: 4096,
	}
	for _, size := range benchSizes {
		body := messagesBody(size)
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			var out []byte
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				var err error
				if out, err = anthropic.RewriteRequest(out[:0], body, opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func streamEvents(b *testing.B, file string) ([][]byte, int) {
	b.Helper()
	raw := readTestdataB(b, filepath.Join("streams", file))
	var p sse.Parser
	p.Feed(raw)
	var events [][]byte
	for {
		ev, ok, err := p.Next()
		if err != nil {
			b.Fatal(err)
		}
		if !ok {
			break
		}
		events = append(events, append([]byte(nil), ev.Data...))
	}
	return events, len(raw)
}

func BenchmarkStreamFeed(b *testing.B) {
	events, n := streamEvents(b, "tool_use.sse")
	var st anthropic.StreamState
	var refs []providers.TextRef
	b.ReportAllocs()
	b.SetBytes(int64(n))
	for b.Loop() {
		st.Reset(100)
		for _, data := range events {
			var err error
			if refs, err = st.Feed(refs[:0], data); err != nil {
				b.Fatal(err)
			}
		}
	}
}
