package providers_test

import (
	"fmt"
	"testing"

	"github.com/tokenomics-dev/tokenomics/providers"
)

var benchSizes = []int{1 << 10, 16 << 10}

func BenchmarkScannerWalk(b *testing.B) {
	for _, size := range benchSizes {
		body := chatBody(size)
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if err := walkAll(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEstimateTokens(b *testing.B) {
	for _, size := range benchSizes {
		body := chatBody(size)
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				providers.EstimateTokens(body)
			}
		})
		b.Run(fmt.Sprintf("literal/%dKB", size>>10), func(b *testing.B) {
			lit := providers.AppendString(nil, body)
			b.ReportAllocs()
			b.SetBytes(int64(len(lit)))
			for b.Loop() {
				providers.EstimateLiteral(lit)
			}
		})
	}
}

func BenchmarkDecodeSplice(b *testing.B) {
	for _, size := range benchSizes {
		body := chatBody(size)
		lit := providers.AppendString(nil, body) // one big escaped literal
		ref := providers.TextRef{Start: 0, End: len(lit)}
		b.Run(fmt.Sprintf("decode/%dKB", size>>10), func(b *testing.B) {
			var buf []byte
			b.ReportAllocs()
			b.SetBytes(int64(len(lit)))
			for b.Loop() {
				var err error
				if buf, err = providers.DecodeText(buf[:0], lit, ref); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("splice/%dKB", size>>10), func(b *testing.B) {
			text, _ := providers.DecodeText(nil, lit, ref)
			edits := []providers.Edit{{Ref: ref, Text: text}}
			var out []byte
			b.ReportAllocs()
			b.SetBytes(int64(len(lit)))
			for b.Loop() {
				var err error
				if out, err = providers.Splice(out[:0], lit, edits); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
