package memory

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
)

// ErrOutsideAllowed is returned when a resolved path leaves the allowed dirs.
var ErrOutsideAllowed = errors.New("memory: path outside memory.allowed_dirs")

// Message is one text of the exchange.
type Message struct {
	Role    string
	Content string
}

// Entry is one exchange to record.
type Entry struct {
	FilePath  string // policy memory.file_path
	FileName  string // policy memory.file_name (may be empty; may hold "/")
	MaxSizeMB int    // policy memory.max_size_mb: rotate past it; <0 never
	Compress  bool   // policy memory.compress_old: gzip rotated files
	TokenHash string
	Metadata  map[string]string // policy metadata, written in the record header
	Time      time.Time
	Model     string
	Provider  string
	Request   []Message // as sent upstream (masked)
	Response  string    // as returned to the client (masked)
	// Texts, when set, holds the request texts and the answer instead of
	// Request and Response (which are then not read): Append takes it over
	// (see Texts).
	Texts  Texts
	Prompt int64 // usage
	Output int64
}

// Options configure a Writer.
type Options struct {
	AllowedDirs []string
	BaseDir     string // relative paths resolve against it
	QueueSize   int    // default 1024
	MaxOpen     int    // open file handles kept, default 64
	FlushEvery  time.Duration
	Logger      hclog.Logger
}

// Writer owns the files; Append is safe for concurrent use.
type Writer struct {
	opts    Options
	allowed []string
	ch      chan Entry
	done    chan struct{}
	dropped atomic.Int64
	written atomic.Int64
	log     hclog.Logger
	// mu orders Append's send against Close's close(ch): a send on a
	// closed channel panics, so Close waits for sends in flight (read
	// locks, held for a non-blocking send only) and later ones see closed.
	mu     sync.RWMutex
	closed bool
	once   sync.Once

	files   map[string]*openFile // owned by the writer goroutine
	targets map[targetKey]target // resolved paths, owned by the writer goroutine
	tick    uint64

	beforeWrite func(Entry) // tests: runs on the writer goroutine before each entry
}

type openFile struct {
	f       *os.File
	dir     dirHandle // the file's directory, for rotation without path lookups
	name    string    // the file's name in dir
	w       *bufio.Writer
	written int64 // bytes in the file, flushed
	used    uint64
}

// size is the file's size including what is still buffered.
func (of *openFile) size() int64 { return of.written + int64(of.w.Buffered()) }

// countingWriter counts what bufio flushes to the file.
type countingWriter struct{ of *openFile }

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.of.f.Write(p)
	c.of.written += int64(n)
	return n, err
}

// New starts the writer goroutine.
func New(o Options) *Writer { return newWriter(o, nil) }

// newWriter is New with a hook run before each entry is written (tests).
func newWriter(o Options, beforeWrite func(Entry)) *Writer {
	if o.QueueSize <= 0 {
		o.QueueSize = 1024
	}
	if o.MaxOpen <= 0 {
		o.MaxOpen = 64
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = time.Second
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	w := &Writer{opts: o, ch: make(chan Entry, o.QueueSize), done: make(chan struct{}),
		log: o.Logger.Named("memory"), files: map[string]*openFile{}, targets: map[targetKey]target{}, beforeWrite: beforeWrite}
	for _, d := range o.AllowedDirs {
		w.allowed = append(w.allowed, absUnder(o.BaseDir, d))
	}
	go w.loop()
	return w
}

// Append enqueues e; it never blocks. It reports false when the entry was
// dropped because the queue is full or the writer is closed. Either way
// e.Texts is the writer's from now on: it goes back to the pool once the
// entry is written or, when dropped, at once. A Texts the caller no longer
// owns (appended or released before) panics.
func (w *Writer) Append(e Entry) bool {
	if !e.Texts.IsZero() {
		e.Texts.queue()
	}
	w.mu.RLock()
	sent := false
	if !w.closed {
		select {
		case w.ch <- e:
			sent = true
		default:
		}
	}
	w.mu.RUnlock()
	if !sent {
		w.drop(e)
	}
	return sent
}

func (w *Writer) drop(e Entry) {
	w.dropped.Add(1)
	e.Texts.done()
}

// Dropped counts entries lost to a full queue.
func (w *Writer) Dropped() int64 { return w.dropped.Load() }

// Written counts entries written.
func (w *Writer) Written() int64 { return w.written.Load() }

// Close drains the queue and closes every file, bounded by ctx.
func (w *Writer) Close(ctx context.Context) error {
	w.once.Do(func() {
		w.mu.Lock()
		w.closed = true
		close(w.ch)
		w.mu.Unlock()
	})
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("closing memory writer: %w", ctx.Err())
	}
}

func (w *Writer) loop() {
	defer close(w.done)
	t := time.NewTicker(w.opts.FlushEvery)
	defer t.Stop()
	for {
		select {
		case e, ok := <-w.ch:
			if !ok {
				w.closeAll()
				return
			}
			w.writeLogged(e)
			// What queued meanwhile is written without a select per entry.
			for n := len(w.ch); n > 0; n-- {
				if e, ok = <-w.ch; !ok {
					w.closeAll()
					return
				}
				w.writeLogged(e)
			}
		case <-t.C:
			w.flushAll()
		}
	}
}

func (w *Writer) writeLogged(e Entry) {
	if w.beforeWrite != nil {
		w.beforeWrite(e)
	}
	if err := w.write(e); err != nil {
		w.log.Warn("cannot record exchange", "token", prefix(e.TokenHash), "error", err)
	}
	e.Texts.done() // formatted (or failed): the texts are not read again
}

func (w *Writer) write(e Entry) error {
	t, err := w.cachedTarget(e)
	if err != nil {
		return err
	}
	of, err := w.open(t)
	if err != nil {
		return err
	}
	format(of.w, e)
	w.written.Add(1)
	if limit := rotateAt(e); limit > 0 && of.size() >= limit {
		w.rotate(t.path, of, e.Compress)
	}
	return nil
}

// rotateAt is the size in bytes past which an entry's file is rotated, or 0.
// As in the original project, rotation is on when max_size_mb is set or
// compress_old is (then at 100 MB); a negative max_size_mb turns it off.
func rotateAt(e Entry) int64 {
	switch {
	case e.MaxSizeMB > 0:
		return int64(e.MaxSizeMB) << 20
	case e.MaxSizeMB == 0 && e.Compress:
		return 100 << 20
	}
	return 0
}

func (w *Writer) open(t target) (*openFile, error) {
	w.tick++
	if of := w.files[t.path]; of != nil {
		of.used = w.tick
		return of, nil
	}
	if len(w.files) >= w.opts.MaxOpen {
		w.evictOldest()
	}
	if err := os.MkdirAll(t.root, 0o700); err != nil {
		return nil, fmt.Errorf("creating memory directory: %w", err)
	}
	f, dir, err := openBeneath(t.root, t.rel)
	if err != nil {
		return nil, fmt.Errorf("opening memory file %s: %w", t.path, err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		closeDir(dir)
		return nil, fmt.Errorf("opening memory file %s: %w", t.path, err)
	}
	of := &openFile{f: f, dir: dir, name: filepath.Base(t.rel), written: st.Size(), used: w.tick}
	of.w = bufio.NewWriterSize(countingWriter{of}, 16<<10)
	w.files[t.path] = of
	return of, nil
}

func (w *Writer) evictOldest() {
	var oldest string
	var min uint64 = ^uint64(0)
	for p, of := range w.files {
		if of.used < min {
			oldest, min = p, of.used
		}
	}
	if of := w.files[oldest]; of != nil {
		w.closeFile(oldest, of)
	}
}

func (w *Writer) closeFile(path string, of *openFile) {
	if err := of.w.Flush(); err != nil {
		w.log.Warn("flushing memory file", "path", path, "error", err)
	}
	_ = of.f.Close()
	closeDir(of.dir)
	delete(w.files, path)
}

func (w *Writer) flushAll() {
	for p, of := range w.files {
		if err := of.w.Flush(); err != nil {
			w.log.Warn("flushing memory file", "path", p, "error", err)
		}
	}
}

func (w *Writer) closeAll() {
	for p, of := range w.files {
		w.closeFile(p, of)
	}
}

func prefix(h string) string {
	if len(h) > 16 {
		return h[:16]
	}
	return h
}

func absUnder(base, p string) string {
	if !filepath.IsAbs(p) {
		p = filepath.Join(base, p)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	return abs
}
