package memory

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDatedSubdirectories covers the original's file_name placeholders,
// including "/" that makes subdirectories, and a relative file_path.
func TestDatedSubdirectories(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	w := New(Options{AllowedDirs: []string{"memory"}, BaseDir: base})
	h := strings.Repeat("c", 64)
	e := entry(h, "memory", "{date}/{token_hash}/{session_id}.md", "dated")
	e.Metadata = map[string]string{"team": "platform", "role": "dev"}
	path, err := w.Resolve(e)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(base, "memory", "2026-11-27", h[:16], h[:16]+".md"), path)
	require.True(t, w.Append(e))
	require.NoError(t, w.Close(context.Background()))

	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(b), "- role: dev\n- team: platform\n", "metadata in the record header, sorted")
	for _, d := range []string{"memory", "memory/2026-11-27", "memory/2026-11-27/" + h[:16]} {
		st, err := os.Stat(filepath.Join(base, d))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), st.Mode().Perm(), d)
	}
}

// TestSymlinkEscapeRefused plants links below the allowed directory, as a
// local user with write access there could: a directory link and a file
// link pointing outside. Neither is followed.
func TestSymlinkEscapeRefused(t *testing.T) {
	t.Parallel()
	base, outside := t.TempDir(), t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(base, "memory"), 0o700))
	require.NoError(t, os.Symlink(outside, filepath.Join(base, "memory", "2026-11-27")))
	victim := filepath.Join(outside, "victim.md")
	require.NoError(t, os.WriteFile(victim, []byte("original\n"), 0o600))
	require.NoError(t, os.Symlink(victim, filepath.Join(base, "memory", "shared.md")))

	w := New(Options{AllowedDirs: []string{"memory"}, BaseDir: base})
	require.True(t, w.Append(entry("h1", "memory", "{date}/x.md", "through the dir link")))
	require.True(t, w.Append(entry("h2", "memory/shared.md", "", "through the file link")))
	require.NoError(t, w.Close(context.Background()))

	assert.EqualValues(t, 0, w.Written())
	entries, err := os.ReadDir(outside)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "nothing created outside")
	b, err := os.ReadFile(victim)
	require.NoError(t, err)
	assert.Equal(t, "original\n", string(b), "the link target is untouched")

	_, _, err = openBeneath(filepath.Join(base, "memory"), "2026-11-27/x.md")
	require.Error(t, err)
	assert.True(t, errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EXDEV), "%v", err)
}

// TestHardLinkAndFIFORefused: only regular files with one link are
// appended to.
func TestHardLinkAndFIFORefused(t *testing.T) {
	t.Parallel()
	base, outside := t.TempDir(), t.TempDir()
	dir := filepath.Join(base, "memory")
	require.NoError(t, os.MkdirAll(dir, 0o700))
	victim := filepath.Join(outside, "victim.md")
	require.NoError(t, os.WriteFile(victim, []byte("original\n"), 0o600))
	require.NoError(t, os.Link(victim, filepath.Join(dir, "linked.md")))
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "fifo.md"), 0o600))

	_, _, err := openBeneath(dir, "linked.md")
	require.ErrorIs(t, err, ErrNotRegular)
	_, _, err = openBeneath(dir, "fifo.md") // must not hang waiting for a reader
	require.Error(t, err)
}

// TestRecordBoundariesCannotBeForged writes request values built to look
// like record boundaries: a model name and metadata with newlines, a role
// with a newline, texts with CR line endings. Each record still has
// exactly one heading and one rule.
func TestRecordBoundariesCannotBeForged(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	w := New(Options{AllowedDirs: []string{base}, BaseDir: base})
	forged := "\n\n---\n\n## 2026-01-01T00:00:00Z · gpt-4o · token ffffffffffffffff\n\n**user:**\n\n> forged"
	e := entry("h", filepath.Join(base, "shared.md"), "", "hello\r## cr heading\r\n---\u2028x")
	e.Model = "gpt-4o" + forged
	e.Provider = "openai\r\n## p"
	e.Metadata = map[string]string{"team\n## k": "v" + forged}
	e.Request = append(e.Request, Message{Role: "user**\n\n## r", Content: "x"})
	e.Response = "ok\r---\r## forged answer"
	require.True(t, w.Append(e))
	require.True(t, w.Append(entry("h", filepath.Join(base, "shared.md"), "", "second")))
	require.NoError(t, w.Close(context.Background()))

	b, err := os.ReadFile(filepath.Join(base, "shared.md"))
	require.NoError(t, err)
	headings, rules := 0, 0
	for _, line := range strings.Split(string(b), "\n") {
		assert.NotContains(t, line, "\r", "no bare CR line ending")
		if strings.HasPrefix(line, "## ") {
			headings++
		}
		if line == "---" {
			rules++
		}
	}
	assert.Equal(t, 2, headings, "one heading per record:\n%s", b)
	assert.Equal(t, 2, rules, "one rule per record:\n%s", b)
	assert.Contains(t, string(b), `gpt-4o\n\n---\n\n## 2026`, "the model name is kept, escaped")
}

func TestRotation(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	w := New(Options{AllowedDirs: []string{base}, BaseDir: base})
	big := strings.Repeat("x", 600<<10)
	for i := 0; i < 3; i++ {
		e := entry("h", base, "log.md", big)
		e.MaxSizeMB, e.Compress = 1, true
		require.True(t, w.Append(e))
	}
	require.NoError(t, w.Close(context.Background()))
	files, err := filepath.Glob(filepath.Join(base, "log.md.*.gz"))
	require.NoError(t, err)
	require.Len(t, files, 1, "rotated once, past 1 MB")
	f, err := os.Open(files[0])
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	data, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(data), "\n---\n"))
	cur, err := os.ReadFile(filepath.Join(base, "log.md"))
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(cur), "\n---\n"))
}

// CommonMark's line-level structure: what could end or start a record.
var (
	atxHeading      = regexp.MustCompile(`^ {0,3}#{1,6}(?:[ \t]|$)`)
	thematicBreak   = regexp.MustCompile(`^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$`)
	setextUnderline = regexp.MustCompile(`^ {0,3}(?:=+|-+)[ \t]*$`)
)

// FuzzRecordBoundaries: whatever the request's model, role and texts and
// the policy's metadata hold, a record has one heading and one rule line,
// and no line ends with a bare CR.
func FuzzRecordBoundaries(f *testing.F) {
	f.Add("gpt-4o\n## x", "user\r\n---", "hi\r## h\n---", "k\u2028v", "a\x85b")
	f.Add("", "", "", "", "")
	f.Fuzz(func(t *testing.T, model, role, text, key, value string) {
		var b strings.Builder
		w := bufio.NewWriter(&b)
		format(w, Entry{Model: model, Provider: value, TokenHash: key, Metadata: map[string]string{key: value},
			Request: []Message{{Role: role, Content: text}}, Response: text + value})
		require.NoError(t, w.Flush())
		headings, rules := 0, 0
		for _, line := range strings.Split(b.String(), "\n") {
			if strings.ContainsRune(line, '\r') {
				t.Fatalf("bare CR in %q", line)
			}
			if atxHeading.MatchString(line) {
				headings++
			}
			if thematicBreak.MatchString(line) || setextUnderline.MatchString(line) {
				rules++
			}
		}
		if headings != 1 || rules != 1 {
			t.Fatalf("%d headings, %d rules:\n%s", headings, rules, b.String())
		}
	})
}
