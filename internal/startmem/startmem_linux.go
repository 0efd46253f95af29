package startmem

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// releaseBinary applies MADV_DONTNEED to the executable's mappings that are
// not writable (code and read-only data) and hold nothing but file pages.
// For a private file mapping that was never written, DONTNEED only unmaps
// the pages: nothing is lost, the next access maps them again from the
// page cache. A mapping with anonymous pages (resident or swapped) was
// written before it became read-only, and DONTNEED would put the file's
// bytes back in their place: a position-independent binary's relocated
// read-only data (RELRO, written by the loader and then protected), or a
// debugger's breakpoints. Those, and the writable mappings (data, bss), are
// left alone.
func releaseBinary() (int64, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, fmt.Errorf("startmem: finding the executable: %w", err)
	}
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0, fmt.Errorf("startmem: reading the mappings: %w", err)
	}
	ranges, err := readOnlyRanges(smaps, exe)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, r := range ranges {
		if err := madvise(r[0], r[1], unix.MADV_DONTNEED); err != nil {
			return n, fmt.Errorf("startmem: releasing %#x-%#x: %w", r[0], r[1], err)
		}
		n += int64(r[1] - r[0])
	}
	return n, nil
}

// readOnlyRanges finds the [start, end) ranges in /proc/PID/smaps text that
// map path without write permission and hold only file pages: their
// entry says "Anonymous: 0 kB" and "Swap: 0 kB" (an entry that does not
// say is left alone).
func readOnlyRanges(smaps []byte, path string) ([][2]uintptr, error) {
	var out [][2]uintptr
	var (
		take       bool // the current entry maps path read-only
		lo, hi     uintptr
		anon, swap = -1, -1
	)
	flush := func() {
		if take && anon == 0 && swap == 0 {
			out = append(out, [2]uintptr{lo, hi})
		}
		take, anon, swap = false, -1, -1
	}
	sc := bufio.NewScanner(bytes.NewReader(smaps))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		f := bytes.Fields(line)
		if len(f) == 0 {
			continue
		}
		if key, ok := bytes.CutSuffix(f[0], []byte(":")); ok {
			// "Anonymous:  12 kB" and the like, about the current entry.
			if len(f) < 2 {
				continue
			}
			n, err := strconv.Atoi(string(f[1]))
			if err != nil {
				n = 1 // unreadable: not known to be clean
			}
			switch string(key) {
			case "Anonymous":
				anon = n
			case "Swap":
				swap = n
			}
			continue
		}
		// "start-end perms offset dev inode   path"
		flush()
		l, h, ok := bytes.Cut(f[0], []byte("-"))
		if !ok || len(f) < 5 {
			return nil, fmt.Errorf("startmem: bad mapping %q", line)
		}
		a, err1 := strconv.ParseUint(string(l), 16, 64)
		b, err2 := strconv.ParseUint(string(h), 16, 64)
		if err1 != nil || err2 != nil || b <= a {
			return nil, fmt.Errorf("startmem: bad mapping %q", f[0])
		}
		perms := f[1]
		lo, hi = uintptr(a), uintptr(b)
		take = len(perms) >= 2 && perms[0] == 'r' && perms[1] != 'w' && mappedPath(line) == path
	}
	flush()
	return out, sc.Err()
}

// mappedPath returns the path of an entry's first line: the rest of the
// line after the inode, as written, since a path may hold spaces of its
// own; "" for an anonymous mapping.
func mappedPath(line []byte) string {
	rest := line
	for range 5 {
		rest = bytes.TrimLeft(rest, " \t")
		i := bytes.IndexAny(rest, " \t")
		if i < 0 {
			return ""
		}
		rest = rest[i:]
	}
	return string(bytes.TrimLeft(rest, " \t"))
}

func madvise(start, end uintptr, advice int) error {
	_, _, e := unix.Syscall(unix.SYS_MADVISE, start, end-start, uintptr(advice))
	if e != 0 {
		return e
	}
	return nil
}
