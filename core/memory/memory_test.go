package memory

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var when = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func entry(hash, fp, fn, user string) Entry {
	return Entry{FilePath: fp, FileName: fn, TokenHash: hash, Time: when, Model: "gpt-4o", Provider: "openai",
		Request: []Message{{"system", "be brief"}, {"user", user}}, Response: "hi\n## not a heading", Prompt: 5, Output: 2}
}

func TestWritesPerTokenAndSingleFile(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	w := New(Options{AllowedDirs: []string{"logs"}, BaseDir: base})
	h1, h2 := strings.Repeat("a", 64), strings.Repeat("b", 64)
	require.True(t, w.Append(entry(h1, "logs/sessions", "{token_hash}.md", "first")))
	require.True(t, w.Append(entry(h2, "logs/sessions", "{token_hash}-{date}.md", "second")))
	require.True(t, w.Append(entry(h1, "logs/all.md", "", "third")))
	require.True(t, w.Append(entry(h2, "logs/all.md", "", "fourth")))
	require.NoError(t, w.Close(context.Background()))

	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(base, p))
		require.NoError(t, err)
		return string(b)
	}
	one := read("logs/sessions/" + h1[:16] + ".md")
	assert.Contains(t, one, "> first")
	assert.Contains(t, one, "gpt-4o via openai")
	assert.Contains(t, one, "> ## not a heading", "response text must be quoted")
	assert.Contains(t, read("logs/sessions/"+h2[:16]+"-2026-11-27.md"), "> second")
	all := read("logs/all.md")
	assert.Less(t, strings.Index(all, "> third"), strings.Index(all, "> fourth"), "order kept")
	st, err := os.Stat(filepath.Join(base, "logs/all.md"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	assert.EqualValues(t, 4, w.Written())
}

func TestRefusesPathsOutsideAllowedDirs(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	w := New(Options{AllowedDirs: []string{"logs"}, BaseDir: base})
	defer w.Close(context.Background())
	cases := []struct {
		name   string
		fp, fn string
	}{
		{"other dir", "elsewhere/x.md", ""},
		{"the dir itself", "logs", ""},
		{"dot dot in path", "logs/../x.md", ""},
		{"dot dot in name", "logs", "a/../../{token_hash}.md"},
		{"backslash in name", "logs", `a\{token_hash}.md`},
		{"absolute name", "logs", "/{token_hash}.md"},
		{"absolute", "/etc/passwd", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.Resolve(entry("abc", tc.fp, tc.fn, "x"))
			require.Error(t, err)
		})
	}
	_, err := w.Resolve(entry("abc", "elsewhere/x.md", "", "x"))
	assert.True(t, errors.Is(err, ErrOutsideAllowed))
}

func TestAppendNeverBlocks(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	w := New(Options{AllowedDirs: []string{base}, BaseDir: base, QueueSize: 1})
	accepted := 0
	for i := 0; i < 1000; i++ {
		if w.Append(entry("h", filepath.Join(base, "m.md"), "", "x")) {
			accepted++
		}
	}
	require.NoError(t, w.Close(context.Background()))
	assert.EqualValues(t, 1000, int64(accepted)+w.Dropped())
	assert.False(t, w.Append(entry("h", filepath.Join(base, "m.md"), "", "late")), "closed writer drops")
}

func TestManyFilesBoundedHandles(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	w := New(Options{AllowedDirs: []string{base}, BaseDir: base, MaxOpen: 2})
	for i := 0; i < 10; i++ {
		hash := strings.Repeat(string(rune('a'+i)), 20)
		require.True(t, w.Append(entry(hash, base, "{token_hash}.md", "x")))
	}
	require.NoError(t, w.Close(context.Background()))
	files, err := os.ReadDir(base)
	require.NoError(t, err)
	assert.Len(t, files, 10)
}

// TestBatchedWritesKeepOrderAndReachTheFile: records of many producers,
// drained in batches, land in Append order per file, and a record reaches
// the file within FlushEvery without a Close (the crash window).
func TestBatchedWritesKeepOrderAndReachTheFile(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	w := New(Options{AllowedDirs: []string{base}, BaseDir: base, QueueSize: 4096, FlushEvery: 20 * time.Millisecond})
	path := filepath.Join(base, "m.md")
	const n = 2000
	for i := range n {
		require.True(t, w.Append(entry("h", path, "", "record "+strconv.Itoa(i)+" end")))
	}
	// Flushed by the ticker, the writer still open: generous for a loaded machine.
	require.Eventually(t, func() bool {
		b, _ := os.ReadFile(path)
		return strings.Contains(string(b), "> record "+strconv.Itoa(n-1)+" end")
	}, 30*time.Second, 10*time.Millisecond)
	require.NoError(t, w.Close(context.Background()))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	all := string(b)
	assert.Equal(t, n, strings.Count(all, "\n---\n"), "one record per entry")
	last := -1
	for i := range n {
		at := strings.Index(all, "> record "+strconv.Itoa(i)+" end")
		require.Greater(t, at, last, "record %d out of order", i)
		last = at
	}
}

// TestCachedTargetsFollowPlaceholders: the resolved-path cache keys on
// the expanded name, so {date} and {token_hash} still choose the file.
func TestCachedTargetsFollowPlaceholders(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	w := New(Options{AllowedDirs: []string{base}, BaseDir: base})
	for _, e := range []Entry{entry("aaaa", base, "{date}/{token_hash}.md", "one"), entry("bbbb", base, "{date}/{token_hash}.md", "two")} {
		require.True(t, w.Append(e))
		later := e
		later.Time = when.Add(24 * time.Hour)
		require.True(t, w.Append(later))
	}
	require.True(t, w.Append(entry("aaaa", filepath.Join(base, ".."), "x.md", "outside")))
	require.NoError(t, w.Close(context.Background()))
	for _, f := range []string{"2026-11-27/aaaa.md", "2026-11-28/aaaa.md", "2026-11-27/bbbb.md", "2026-11-28/bbbb.md"} {
		b, err := os.ReadFile(filepath.Join(base, f))
		require.NoError(t, err, f)
		assert.Equal(t, 1, strings.Count(string(b), "\n---\n"), f)
	}
	_, err := os.Stat(filepath.Join(filepath.Dir(base), "x.md"))
	assert.True(t, os.IsNotExist(err), "refused target written")
}

// TestAppendWhileClosing appends from many goroutines while Close runs: no
// send may reach the closed queue (it panicked before), and every entry is
// either written or counted as dropped.
func TestAppendWhileClosing(t *testing.T) {
	for round := range 20 {
		w := New(Options{AllowedDirs: []string{"logs"}, BaseDir: t.TempDir(), QueueSize: 8})
		var wg sync.WaitGroup
		var accepted atomic.Int64
		start := make(chan struct{})
		for g := range 8 {
			wg.Go(func() {
				<-start
				for i := range 50 {
					e := entry(strings.Repeat("c", 64), "logs", "m.md", strconv.Itoa(round*1000+g*50+i))
					if w.Append(e) {
						accepted.Add(1)
					}
				}
			})
		}
		close(start)
		if err := w.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if got := w.Written() + w.Dropped(); got != 8*50 {
			t.Fatalf("round %d: %d written + %d dropped, want %d in all", round, w.Written(), w.Dropped(), 8*50)
		}
		if w.Written() != accepted.Load() {
			t.Fatalf("round %d: %d accepted, %d written", round, accepted.Load(), w.Written())
		}
	}
}
