package memory

import (
	"bufio"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkFormat formats one exchange (2 KB of texts, metadata) with
// escaping and block quoting.
func BenchmarkFormat(b *testing.B) {
	e := entry(strings.Repeat("a", 64), "x", "", strings.Repeat("a line of a user's question\n", 70))
	e.Metadata = map[string]string{"team": "platform", "role": "developer"}
	w := bufio.NewWriterSize(io.Discard, 16<<10)
	b.ReportAllocs()
	for b.Loop() {
		format(w, e)
	}
}

// BenchmarkOpenBeneath opens a new file two directories below an allowed
// directory, segment by segment without following links: the cost paid
// once per memory file (open files are kept).
func BenchmarkOpenBeneath(b *testing.B) {
	root := b.TempDir()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		f, d, err := openBeneath(root, filepath.ToSlash(filepath.Join("2026-12-07", "s", strconv.Itoa(i)+".md")))
		if err != nil {
			b.Fatal(err)
		}
		_ = f.Close()
		closeDir(d)
		i++
	}
}
