package startmem

import (
	"bufio"
	"io"
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

// TestW6rReleaseBinaryReplaced replaces the running binary on disk before
// Release, the way an upgrade does (a new file renamed over it, or the old
// one removed): the process keeps its own inode, shown as "(deleted)", and
// still releases and refaults its pages from it.
func TestW6rReleaseBinaryReplaced(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "helper")
	if out, err := exec.Command(goBin, "build", "-buildmode=pie", "-o", bin, "./testdata/piehelper").CombinedOutput(); err != nil {
		t.Fatalf("building: %v\n%s", err, out)
	}
	for _, how := range []string{"rename", "remove"} {
		t.Run(how, func(t *testing.T) {
			run := filepath.Join(dir, "run-"+how)
			b, err := os.ReadFile(bin)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(run, b, 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(run, "wait")
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = cmd.Stdout
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			// Wait until it runs, then swap the file under it.
			rd := bufio.NewReader(stdout)
			if first, err := rd.ReadString('\n'); err != nil || first != "waiting\n" {
				t.Fatalf("the helper did not start: %q %v", first, err)
			}
			switch how {
			case "rename":
				other := run + ".new"
				if err := os.WriteFile(other, []byte("#!/bin/sh\nexit 7\n"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(other, run); err != nil {
					t.Fatal(err)
				}
			case "remove":
				if err := os.Remove(run); err != nil {
					t.Fatal(err)
				}
			}
			_, _ = stdin.Write([]byte("go\n"))
			rest, _ := io.ReadAll(rd)
			got := string(rest)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("helper failed after its binary was replaced: %v\n%s", err, got)
			}
			if !strings.Contains(got, "[0 1 2 3];[1 1 2 3];[1 2 2 3];") || strings.Contains(got, "released=0 ") {
				t.Fatalf("output %q", got)
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
