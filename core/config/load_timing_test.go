package config

import (
	"fmt"
	"strings"
	"testing"
)

func BenchmarkLoadProxyConfig(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load("testdata/proxy-config.yaml", LoadOptions{Environ: noEnv}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadMergeBomb measures the worst case the node budget allows.
func BenchmarkLoadMergeBomb(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("providers:\n  p0: &p0 {upstream_url: https://x.example, api_key_env: K}\n")
	for i := 1; i <= 12; i++ {
		fmt.Fprintf(&sb, "  p%d: &p%d {<<: [", i, i)
		for j := range 10 {
			if j > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "*p%d", i-1)
		}
		sb.WriteString("]}\n")
	}
	path := writeConfig(b, "", sb.String())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(path, LoadOptions{Environ: noEnv}); err == nil {
			b.Fatal("want the budget error")
		}
	}
}
