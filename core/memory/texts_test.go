package memory

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withTexts is e with its request texts and answer moved into a Texts.
func withTexts(e Entry) Entry {
	t := NewTexts()
	for _, m := range e.Request {
		t.AddRequest(m.Role, []byte(m.Content))
	}
	t.AppendAnswer([]byte(e.Response))
	e.Request, e.Response, e.Texts = nil, "", t
	return e
}

// formattedTexts formats an entry holding Texts as the writer does: the
// Texts queued (the writer's), then given back.
func formattedTexts(e Entry) string {
	e.Texts.queue()
	defer e.Texts.done()
	return formatted(e)
}

// TestTextsFormatLikeStrings: an entry's texts in a Texts are recorded
// byte for byte as the same texts in Request and Response.
func TestTextsFormatLikeStrings(t *testing.T) {
	t.Parallel()
	texts := []string{"", "\n", "\r\n\r", "hi", "a\r\nb\rc\nd", "## heading\n---\n", "bad \xff utf8", strings.Repeat("long line\n", 300)}
	for i, text := range texts {
		e := entry(strings.Repeat("ab", 40), "x", "", text)
		e.Response = texts[(i+3)%len(texts)]
		e.Request = append(e.Request, Message{"tool\n", texts[(i+5)%len(texts)]})
		e.Metadata = map[string]string{"team": text}
		assert.Equal(t, formatted(e), formattedTexts(withTexts(e)), "text %q", text)
	}
	e := entry("h", "x", "", "question")
	e.Request = nil
	assert.Equal(t, formatted(e), formattedTexts(withTexts(e)), "no request texts")
}

// FuzzTextsFormat checks the same on arbitrary texts.
func FuzzTextsFormat(f *testing.F) {
	f.Add("hi\r\nthere", "answer\n")
	f.Add("\r\r\n\n", "\xff")
	f.Fuzz(func(t *testing.T, text, answer string) {
		e := entry("h", "x", "", text)
		e.Response = answer
		if got, want := formattedTexts(withTexts(e)), formatted(e); got != want {
			t.Fatalf("format differs:\n got %q\nwant %q", got, want)
		}
	})
}

// TestTextsNotReusedWhileQueued: while the writer holds entries (one being
// written, others queued), no new Texts gets their buffers, handles the
// caller kept are dead, and the records come out intact once the writer
// goes on. Run with -race: a buffer refilled while the writer reads it is
// a reported race.
func TestTextsNotReusedWhileQueued(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	path := filepath.Join(base, "m.md")
	gate := make(chan struct{})
	var once sync.Once
	w := newWriter(Options{AllowedDirs: []string{base}, BaseDir: base, QueueSize: 8}, func(Entry) {
		once.Do(func() { <-gate }) // the first entry waits, the others queue behind it
	})
	const held = 5
	var handed []Texts
	for i := range held {
		e := withTexts(entry("h", path, "", "question "+strconv.Itoa(i)+" "+strings.Repeat("q", 100*i)))
		handed = append(handed, e.Texts)
		require.True(t, w.Append(e))
	}
	busy := map[*textBuf]bool{}
	for _, h := range handed {
		busy[h.b] = true
	}
	// The pool is asked for many buffers, each filled and given back, as
	// concurrent requests would: none is one the writer holds.
	for round := range 200 {
		var got []Texts
		for range 4 {
			nt := NewTexts()
			require.False(t, busy[nt.b], "round %d: a queued entry's buffer was handed out", round)
			nt.AddRequestString("user", strings.Repeat("X", 300))
			nt.AppendAnswer([]byte("overwritten?"))
			got = append(got, nt)
		}
		for _, nt := range got {
			nt.Release()
		}
	}
	// Dead handles: whoever kept one cannot write, release or append it.
	for _, h := range handed {
		assert.PanicsWithValue(t, "memory: use of a Texts after Append or Release", func() { h.AddRequestString("user", "late") })
		assert.PanicsWithValue(t, "memory: use of a Texts after Append or Release", func() { h.AppendAnswer([]byte("late")) })
		assert.PanicsWithValue(t, "memory: use of a Texts after Append or Release", h.Release)
		assert.PanicsWithValue(t, "memory: use of a Texts after Append or Release", func() { w.Append(Entry{FilePath: path, Texts: h}) })
	}
	close(gate)
	require.NoError(t, w.Close(context.Background()))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	log := string(b)
	assert.Equal(t, held, strings.Count(log, "\n---\n"))
	assert.NotContains(t, log, "XXX")
	assert.NotContains(t, log, "overwritten")
	for i := range held {
		assert.Contains(t, log, "> question "+strconv.Itoa(i)+" "+strings.Repeat("q", 100*i)+"\n")
	}
	// Written and recycled: the handles stay dead though the buffers live on.
	for _, h := range handed {
		assert.Panics(t, func() { h.AddRequestString("user", "after") })
	}
}

// TestTextsDroppedAreRecycled: an entry dropped by a full queue or a
// closed writer gives its Texts back at once; its handle is dead.
func TestTextsDroppedAreRecycled(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	path := filepath.Join(base, "m.md")
	gate := make(chan struct{})
	var once sync.Once
	w := newWriter(Options{AllowedDirs: []string{base}, BaseDir: base, QueueSize: 1}, func(Entry) {
		once.Do(func() { <-gate })
	})
	accepted := 0
	for i := range 10 {
		e := withTexts(entry("h", path, "", "n"+strconv.Itoa(i)))
		if w.Append(e) {
			accepted++
			continue
		}
		gen := e.Texts.gen
		assert.NotEqual(t, gen, e.Texts.b.gen.Load(), "dropped: recycled")
		assert.Panics(t, func() { e.Texts.AddRequestString("user", "x") })
	}
	close(gate)
	require.NoError(t, w.Close(context.Background()))
	assert.EqualValues(t, 10, int64(accepted)+w.Dropped())
	e := withTexts(entry("h", path, "", "late"))
	assert.False(t, w.Append(e), "closed writer drops")
	assert.Panics(t, func() { e.Texts.Release() })
}

// TestTextsZeroAndRelease: the zero Texts is inert, a released one dead.
func TestTextsZeroAndRelease(t *testing.T) {
	t.Parallel()
	var z Texts
	assert.True(t, z.IsZero())
	z.Release() // no-op
	assert.Panics(t, func() { z.AddRequestString("user", "x") })
	nt := NewTexts()
	assert.False(t, nt.IsZero())
	nt.AddRequestString("user", "x")
	nt.Release()
	assert.Panics(t, nt.Release, "double release")
	assert.Panics(t, func() { nt.AppendAnswer([]byte("x")) })
}

// TestTextsBoundedInPool: a huge exchange's buffers are not pooled.
func TestTextsBoundedInPool(t *testing.T) {
	t.Parallel()
	b := new(textBuf) // not the pool's: read after the reset
	b.req = append(b.req, strings.Repeat("x", maxKeptText+1)...)
	b.msgs = append(b.msgs, textMsg{"user", len(b.req)})
	b.reset()
	assert.Zero(t, cap(b.req))
	assert.Empty(t, b.msgs)
	b.req = append(b.req, "small"...)
	b.msgs = append(b.msgs, textMsg{"user", len(b.req)})
	b.reset()
	assert.NotZero(t, cap(b.req), "small buffers are kept")
}

// TestFormatTextsAllocs: formatting an entry that holds Texts allocates
// nothing either.
func TestFormatTextsAllocs(t *testing.T) {
	e := withTexts(entry(strings.Repeat("a", 64), "x", "", strings.Repeat("a line of a user's question\r\n", 70)))
	e.Metadata = map[string]string{"team": "platform", "role": "developer"}
	e.Texts.queue()
	defer e.Texts.done()
	w := bufio.NewWriterSize(io.Discard, 16<<10)
	require.Zero(t, testing.AllocsPerRun(100, func() { format(w, e) }))
}

// TestTextsRoundTripAllocs: filling a Texts, appending it and the writer
// formatting and recycling it allocates nothing once warm (sync.Pool may
// lose a buffer to a collection: the best of several runs counts).
func TestTextsRoundTripAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts under -race are the detector's")
	}
	base := t.TempDir()
	w := New(Options{AllowedDirs: []string{base}, BaseDir: base})
	defer w.Close(context.Background())
	e := entry("h", filepath.Join(base, "m.md"), "", "")
	e.Request, e.Response = nil, ""
	q := []byte(strings.Repeat("a question line\n", 50))
	one := func() {
		nt := NewTexts()
		nt.AddRequestString("system", "be brief")
		nt.AddRequest("user", q)
		nt.AppendAnswer(q)
		e.Texts = nt
		require.True(t, w.Append(e))
		for nt.b.state.Load() != textsFree { // written and given back
			runtime.Gosched()
		}
	}
	one()
	best := -1.0
	for range 5 {
		if a := testing.AllocsPerRun(100, one); best < 0 || a < best {
			best = a
		}
	}
	assert.Zero(t, best)
}
