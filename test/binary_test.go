package test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// binary returns the tokenomics binary under test: $TOKENOMICS_BIN (set by
// make test) or one built once into a temp dir.
func binary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("TOKENOMICS_BIN"); p != "" {
		return p
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tokenomics-bin")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "tokenomics")
		_, self, _, _ := runtime.Caller(0)
		cmd := exec.Command("go", "build", "-o", builtBin, "./cmd/tokenomics")
		cmd.Dir = filepath.Join(filepath.Dir(self), "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = &buildError{err: err, out: out}
		}
	})
	if buildErr != nil {
		t.Fatalf("building tokenomics: %v", buildErr)
	}
	return builtBin
}

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return e.err.Error() + ": " + string(e.out) }

// result is one finished run of the binary.
type result struct {
	stdout, stderr string
	code           int
}

// run executes the binary in dir with env added to a minimal environment.
func run(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	return runCmd(t, exec.Command(binary(t), args...), dir, env, fmt.Sprint(args))
}

// runCmd runs cmd to its end in dir with env added to a minimal
// environment; a command that cannot run at all (what names it) fails t.
func runCmd(t *testing.T, cmd *exec.Cmd, dir string, env []string, what string) result {
	t.Helper()
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s: %v", what, err)
	}
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// copyFile copies a fixture into dir under name.
func copyFile(t *testing.T, src, dir, name string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
		t.Fatal(err)
	}
}
