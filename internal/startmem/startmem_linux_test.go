package startmem

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestReadOnlyRanges(t *testing.T) {
	const exe = "/opt/tokenomics/bin/tokenomics"
	maps := `00400000-015a4000 r-xp 00000000 fe:01 123 /opt/tokenomics/bin/tokenomics
015a4000-029e9000 r--p 011a4000 fe:01 123 /opt/tokenomics/bin/tokenomics
029e9000-02af7000 rw-p 025e9000 fe:01 123 /opt/tokenomics/bin/tokenomics
02af7000-02b9e000 rw-p 00000000 00:00 0
c000000000-c004000000 rw-p 00000000 00:00 0
7f0000000000-7f0000100000 r--p 00000000 fe:01 99 /opt/tokenomics/bin/tokenomics.db
7f0000200000-7f0000300000 r--p 00000000 fe:01 124 /opt/tokenomics/bin/tokenomics (deleted)
7f0000400000-7f0000500000 ---p 00000000 fe:01 123 /opt/tokenomics/bin/tokenomics
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]
`
	got, err := readOnlyRanges([]byte(maps), exe)
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
