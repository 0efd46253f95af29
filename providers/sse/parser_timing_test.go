package sse_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tokenomics-dev/tokenomics/providers/sse"
)

// chatStream builds an OpenAI-style stream of about size bytes.
func chatStream(size int) []byte {
	const ev = `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":" token"},"finish_reason":null}]}` + "\n\n"
	var b strings.Builder
	for b.Len() < size {
		b.WriteString(ev)
	}
	b.WriteString("data: [DONE]\n\n")
	return []byte(b.String())
}

func BenchmarkParser(b *testing.B) {
	for _, size := range []int{1 << 10, 16 << 10} {
		stream := chatStream(size)
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			var p sse.Parser
			b.ReportAllocs()
			b.SetBytes(int64(len(stream)))
			for b.Loop() {
				p.Reset()
				// Relay-sized chunks that split events anywhere.
				for rest := stream; len(rest) > 0; {
					n := min(333, len(rest))
					p.Feed(rest[:n])
					rest = rest[n:]
					for {
						_, ok, err := p.Next()
						if err != nil {
							b.Fatal(err)
						}
						if !ok {
							break
						}
					}
				}
			}
		})
	}
}
