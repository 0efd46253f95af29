package startmem

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
)

// entry is one /proc/PID/smaps entry with the lines readOnlyRanges reads.
func entry(head string, anon, swap int) string {
	return head + "\nSize: 4 kB\nRss: 4 kB\nAnonymous: " + strconv.Itoa(anon) + " kB\nLazyFree: 0 kB\nSwap: " + strconv.Itoa(swap) + " kB\nVmFlags: rd mr mw me\n"
}

func TestReadOnlyRanges(t *testing.T) {
	const exe = "/opt/tokenomics/bin/tokenomics"
	smaps := entry("00400000-015a4000 r-xp 00000000 fe:01 123                      "+exe, 0, 0) +
		entry("015a4000-029e9000 r--p 011a4000 fe:01 123 "+exe, 0, 0) +
		entry("029e9000-02af7000 rw-p 025e9000 fe:01 123 "+exe, 0, 0) +
		entry("02af7000-02b9e000 rw-p 00000000 00:00 0", 0, 0) +
		entry("c000000000-c004000000 rw-p 00000000 00:00 0", 100, 0) +
		entry("7f0000000000-7f0000100000 r--p 00000000 fe:01 99 "+exe+".db", 0, 0) +
		entry("7f0000200000-7f0000300000 r--p 00000000 fe:01 124 "+exe+" (deleted)", 0, 0) +
		entry("7f0000400000-7f0000500000 ---p 00000000 fe:01 123 "+exe, 0, 0) +
		// Written before it became read-only (a PIE's RELRO): its file
		// bytes are not its contents.
		entry("7f0000600000-7f0000700000 r--p 00000000 fe:01 123 "+exe, 8, 0) +
		// The same, its written pages swapped out.
		entry("7f0000800000-7f0000900000 r--p 00000000 fe:01 123 "+exe, 0, 4) +
		// An entry that does not say what it holds.
		"7f0000a00000-7f0000b00000 r--p 00000000 fe:01 123 " + exe + "\nSize: 4 kB\n" +
		entry("7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]", 12, 0)
	got, err := readOnlyRanges([]byte(smaps), exe)
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]uintptr{{0x400000, 0x15a4000}, {0x15a4000, 0x29e9000}}
	if len(got) != len(want) {
		t.Fatalf("got %x, want %x", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("range %d: got %x, want %x", i, got[i], want[i])
		}
	}

	// A path with spaces of its own, two in a row included.
	const spaced = "/opt/my  tools/token omics"
	got, err = readOnlyRanges([]byte(entry("00400000-00500000 r-xp 00000000 fe:01 7    "+spaced, 0, 0)+entry("00500000-00600000 r-xp 00000000 fe:01 8 /opt/my tools/token omics", 0, 0)), spaced)
	if err != nil || len(got) != 1 || got[0] != [2]uintptr{0x400000, 0x500000} {
		t.Fatalf("spaced path: got %x, %v", got, err)
	}

	for _, bad := range []string{
		"zz-01 r-xp 0 fe:01 1 " + exe + "\n",
		"02000-01000 r-xp 0 fe:01 1 " + exe + "\n",
		"0100 r-xp 0 fe:01 1 " + exe + "\n",
	} {
		if _, err := readOnlyRanges([]byte(bad), exe); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

// TestReleaseKeepsWorking releases this test binary's pages, then runs code
// and reads read-only data again: both fault back in, and the binary's
// resident pages drop.
func TestReleaseKeepsWorking(t *testing.T) {
	table := strings.Repeat("tokenomics read-only data ", 1<<14) // built at run time: heap, not rodata
	before := residentFile(t)
	n, err := Release()
	if err != nil {
		t.Fatal(err)
	}
	if n <= 0 {
		t.Fatalf("released %d bytes of the binary", n)
	}
	after := residentFile(t)
	if after >= before {
		t.Errorf("resident file pages %d kB before, %d kB after: want fewer", before, after)
	}
	// Code and read-only data still work (they fault back in).
	if got := strconv.Itoa(12345) + strings.ToUpper("ok"); got != "12345OK" {
		t.Fatalf("got %q", got)
	}
	if !bytes.Contains([]byte(table), []byte("only data")) {
		t.Fatal("data lost")
	}
	if _, err := Release(); err != nil { // twice is harmless
		t.Fatal(err)
	}
}

// residentFile is RssFile from /proc/self/status, in kB.
func residentFile(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}
