package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// memMap is one process's resident memory from /proc/PID/smaps, summed by
// kind of mapping, for telling which part of serve a peak came from.
type memMap struct {
	Total int64            // Rss over all mappings, bytes
	Kinds map[string]int64 // Rss by kind (see mappingKind)
	Big   []mapping        // the largest anonymous mappings, by Rss
}

type mapping struct {
	Kind      string
	Size, Rss int64
}

// mappingKind names a mapping by its path and permissions: the binary's
// code, read-only data and writable data, other files (the token
// database), executable anonymous memory (compiled guest code), other
// anonymous memory (the Go heap, stacks and the guests' linear memories).
func mappingKind(path, perms, bin string) string {
	switch {
	case path == bin && strings.Contains(perms, "x"):
		return "binary text"
	case path == bin && strings.Contains(perms, "w"):
		return "binary data"
	case path == bin:
		return "binary rodata"
	case path == "[stack]":
		return "main stack"
	case strings.HasPrefix(path, "/"):
		return "file " + path
	case path != "" && path != "[heap]":
		return path
	case strings.Contains(perms, "x"):
		return "anon exec (compiled guest code)"
	default:
		return "anon rw (Go heap, stacks, guest memories)"
	}
}

// readSmaps parses smaps text (whole mappings, in order).
func readSmaps(r io.Reader, bin string) (memMap, error) {
	m := memMap{Kinds: map[string]int64{}}
	sc := bufio.NewScanner(r)
	var cur *mapping
	flush := func() {
		if cur == nil {
			return
		}
		m.Total += cur.Rss
		m.Kinds[cur.Kind] += cur.Rss
		if strings.HasPrefix(cur.Kind, "anon") {
			m.Big = append(m.Big, *cur)
		}
		cur = nil
	}
	for sc.Scan() {
		line := sc.Bytes()
		if name, rest, ok := bytes.Cut(line, []byte(":")); ok && len(name) > 0 && name[0] >= 'A' && name[0] <= 'Z' {
			if cur != nil && string(name) == "Rss" {
				cur.Rss = kbField(rest)
			}
			continue
		}
		// A header: "start-end perms offset dev inode   path".
		flush()
		f := strings.Fields(string(line))
		if len(f) < 5 {
			return m, fmt.Errorf("smaps: unexpected line %q", line)
		}
		lo, hi, _ := strings.Cut(f[0], "-")
		a, err1 := strconv.ParseUint(lo, 16, 64)
		b, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			return m, fmt.Errorf("smaps: bad range %q", f[0])
		}
		path := ""
		if len(f) > 5 {
			path = strings.Join(f[5:], " ")
		}
		cur = &mapping{Kind: mappingKind(path, f[1], bin), Size: int64(b - a)}
	}
	flush()
	sort.Slice(m.Big, func(i, j int) bool { return m.Big[i].Rss > m.Big[j].Rss })
	if len(m.Big) > 8 {
		m.Big = m.Big[:8]
	}
	return m, sc.Err()
}

func kbField(b []byte) int64 {
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.ParseInt(f[0], 10, 64)
	return n << 10
}

// peakSampler reads a process's smaps every interval and keeps the sample
// with the most resident memory, until stop is called.
type peakSampler struct {
	stopc chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	peak  memMap
}

func samplePeak(pid int, bin string, every time.Duration) *peakSampler {
	s := &peakSampler{stopc: make(chan struct{}), done: make(chan struct{})}
	path := fmt.Sprintf("/proc/%d/smaps", pid)
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if f, err := os.Open(path); err == nil {
				m, err := readSmaps(f, bin)
				_ = f.Close()
				if err == nil {
					s.mu.Lock()
					if m.Total > s.peak.Total {
						s.peak = m
					}
					s.mu.Unlock()
				}
			}
			select {
			case <-s.stopc:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *peakSampler) stop() memMap {
	close(s.stopc)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// print writes the breakdown, largest kind first.
func (m memMap) print(w io.Writer, name string) {
	fmt.Fprintf(w, "%s: serve's highest sampled RSS %s\n", name, mib(m.Total))
	kinds := make([]string, 0, len(m.Kinds))
	for k := range m.Kinds {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool { return m.Kinds[kinds[i]] > m.Kinds[kinds[j]] })
	for _, k := range kinds {
		if m.Kinds[k] >= 64<<10 {
			fmt.Fprintf(w, "  %-48s %s\n", k, mib(m.Kinds[k]))
		}
	}
	for _, b := range m.Big {
		fmt.Fprintf(w, "  anon mapping of %s: %s resident (%s)\n", mib(b.Size), mib(b.Rss), b.Kind)
	}
}
