package memory

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	FileName  string // policy memory.file_name (may be empty)
	TokenHash string
	Time      time.Time
	Model     string
	Provider  string
	Request   []Message // as sent upstream (masked)
	Response  string    // as returned to the client (masked)
	Prompt    int64     // usage
	Output    int64
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
	closed  atomic.Bool
	once    sync.Once

	files map[string]*openFile // owned by the writer goroutine
	tick  uint64
}

type openFile struct {
	f    *os.File
	w    *bufio.Writer
	used uint64
}

// New starts the writer goroutine.
func New(o Options) *Writer {
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
		log: o.Logger.Named("memory"), files: map[string]*openFile{}}
	for _, d := range o.AllowedDirs {
		w.allowed = append(w.allowed, absUnder(o.BaseDir, d))
	}
	go w.loop()
	return w
}

// Append enqueues e; it never blocks. It reports false when the entry was
// dropped because the queue is full or the writer is closed.
func (w *Writer) Append(e Entry) bool {
	if w.closed.Load() {
		w.dropped.Add(1)
		return false
	}
	select {
	case w.ch <- e:
		return true
	default:
		w.dropped.Add(1)
		return false
	}
}

// Dropped counts entries lost to a full queue.
func (w *Writer) Dropped() int64 { return w.dropped.Load() }

// Written counts entries written.
func (w *Writer) Written() int64 { return w.written.Load() }

// Close drains the queue and closes every file, bounded by ctx.
func (w *Writer) Close(ctx context.Context) error {
	w.once.Do(func() {
		w.closed.Store(true)
		close(w.ch)
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
			if err := w.write(e); err != nil {
				w.log.Warn("cannot record exchange", "token", prefix(e.TokenHash), "error", err)
			}
		case <-t.C:
			w.flushAll()
		}
	}
}

// Resolve gives the file an entry goes to, or ErrOutsideAllowed.
func (w *Writer) Resolve(e Entry) (string, error) {
	p := e.FilePath
	if e.FileName != "" {
		name := strings.NewReplacer("{token_hash}", prefix(e.TokenHash), "{date}", e.Time.UTC().Format("2006-01-02")).Replace(e.FileName)
		if strings.ContainsAny(name, `/\`) || name == ".." || name == "." {
			return "", fmt.Errorf("memory: bad file name %q", name)
		}
		p = filepath.Join(p, name)
	}
	abs := absUnder(w.opts.BaseDir, p)
	for _, dir := range w.allowed {
		if abs != dir && strings.HasPrefix(abs, dir+string(filepath.Separator)) {
			return abs, nil
		}
	}
	return "", fmt.Errorf("%w: %s", ErrOutsideAllowed, abs)
}

func (w *Writer) write(e Entry) error {
	path, err := w.Resolve(e)
	if err != nil {
		return err
	}
	of, err := w.open(path)
	if err != nil {
		return err
	}
	format(of.w, e)
	w.written.Add(1)
	return nil
}

func (w *Writer) open(path string) (*openFile, error) {
	w.tick++
	if of := w.files[path]; of != nil {
		of.used = w.tick
		return of, nil
	}
	if len(w.files) >= w.opts.MaxOpen {
		w.evictOldest()
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating memory directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening memory file: %w", err)
	}
	of := &openFile{f: f, w: bufio.NewWriterSize(f, 16<<10), used: w.tick}
	w.files[path] = of
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

// format writes one exchange as a Markdown section.
func format(b *bufio.Writer, e Entry) {
	fmt.Fprintf(b, "## %s · %s", e.Time.UTC().Format(time.RFC3339), e.Model)
	if e.Provider != "" {
		fmt.Fprintf(b, " via %s", e.Provider)
	}
	fmt.Fprintf(b, " · token %s\n\n", prefix(e.TokenHash))
	for _, m := range e.Request {
		fmt.Fprintf(b, "**%s:**\n\n%s\n\n", m.Role, quote(m.Content))
	}
	fmt.Fprintf(b, "**assistant:**\n\n%s\n\n", quote(e.Response))
	fmt.Fprintf(b, "_tokens: %d prompt, %d completion_\n\n---\n\n", e.Prompt, e.Output)
}

// quote renders text as a Markdown block quote so its own headings and
// rules cannot break the file's structure.
func quote(s string) string {
	if s == "" {
		return "> (empty)"
	}
	return "> " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n> ")
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
