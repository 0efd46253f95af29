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
// not writable (code and read-only data). For a private file mapping that
// was never written, that only unmaps the pages: nothing is lost, the next
// access maps them again from the page cache. Writable mappings (data, bss)
// are left alone: there DONTNEED would drop the process's own changes.
func releaseBinary() (int64, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, fmt.Errorf("startmem: finding the executable: %w", err)
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0, fmt.Errorf("startmem: reading the mappings: %w", err)
	}
	ranges, err := readOnlyRanges(maps, exe)
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

// readOnlyRanges finds the [start, end) ranges in /proc/PID/maps text that
// map path without write permission.
func readOnlyRanges(maps []byte, path string) ([][2]uintptr, error) {
	var out [][2]uintptr
	sc := bufio.NewScanner(bytes.NewReader(maps))
	for sc.Scan() {
		// "start-end perms offset dev inode path"
		f := bytes.Fields(sc.Bytes())
		if len(f) < 6 || string(bytes.Join(f[5:], []byte(" "))) != path {
			continue
		}
		perms := f[1]
		if len(perms) < 2 || perms[1] == 'w' || perms[0] != 'r' {
			continue
		}
		lo, hi, ok := bytes.Cut(f[0], []byte("-"))
		if !ok {
			return nil, fmt.Errorf("startmem: bad mapping %q", f[0])
		}
		a, err1 := strconv.ParseUint(string(lo), 16, 64)
		b, err2 := strconv.ParseUint(string(hi), 16, 64)
		if err1 != nil || err2 != nil || b <= a {
			return nil, fmt.Errorf("startmem: bad mapping %q", f[0])
		}
		out = append(out, [2]uintptr{uintptr(a), uintptr(b)})
	}
	return out, sc.Err()
}

func madvise(start, end uintptr, advice int) error {
	_, _, e := unix.Syscall(unix.SYS_MADVISE, start, end-start, uintptr(advice))
	if e != 0 {
		return e
	}
	return nil
}
