package startmem

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestW6rReleasePositionIndependent builds a position-independent
// executable (go build -buildmode=pie, as distributions package Go
// programs) that calls Release and then uses its type data and interface
// tables. The loader writes those pages (relocations) and then makes them
// read-only: releasing them would put the file's unrelocated bytes back
// and crash the process at its next use of them.
func TestW6rReleasePositionIndependent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	for _, mode := range []string{"pie", "exe"} {
		t.Run(mode, func(t *testing.T) {
			bin := filepath.Join(t.TempDir(), "pie helper "+mode) // a space in the path too
			build := exec.Command(goBin, "build", "-buildmode="+mode, "-o", bin, "./testdata/piehelper")
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("building: %v\n%s", err, out)
			}
			out, err := exec.Command(bin).CombinedOutput()
			if err != nil {
				t.Fatalf("the %s helper failed after Release: %v\n%s", mode, err, out)
			}
			got := string(out)
			if !strings.Contains(got, "[0 1 2 3];[1 1 2 3];[1 2 2 3];") || !strings.Contains(got, "file does not exist") {
				t.Fatalf("output %q", got)
			}
			if strings.HasPrefix(got, "released=0 ") {
				t.Fatalf("nothing of the %s binary was released: %q", mode, got)
			}
		})
	}
}

// FuzzReadOnlyRanges feeds arbitrary smaps text: the parser must not
// panic, and every range it returns is a proper [lo, hi).
func FuzzReadOnlyRanges(f *testing.F) {
	f.Add(entry("00400000-00500000 r-xp 00000000 fe:01 7 /x", 0, 0), "/x")
	f.Add(entry("00400000-00500000 r--p 00000000 fe:01 7    /a  b", 4, 0), "/a  b")
	f.Add("00400000-00500000 r-xp 0 0 0\nAnonymous:\nSwap: x kB\n", "")
	f.Fuzz(func(t *testing.T, smaps, path string) {
		got, err := readOnlyRanges([]byte(smaps), path)
		if err != nil {
			return
		}
		for _, r := range got {
			if r[1] <= r[0] {
				t.Fatalf("range %x", r)
			}
		}
	})
}
