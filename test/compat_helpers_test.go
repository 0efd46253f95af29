package test

import (
	"os/exec"
	"testing"
	"time"
)

// startCmd starts cmd in dir (minimal environment plus env) and waits for
// url+probe to answer 200, like startProc but for any command, such as a
// shell script that ends by exec'ing the binary.
func startCmd(t *testing.T, cmd *exec.Cmd, dir string, env []string, url, probe, name string) *proc {
	t.Helper()
	// Owned ports the script, its environment or url name are handed
	// over, as startProc does (see ports_helpers_test.go).
	p := launchProc(t, cmd, dir, env, cmd.Args, url, name)
	deadline := time.Now().Add(60 * time.Second) // a busy machine compiles plugins slowly
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("%s exited early:\n%s", name, p.Logs())
		default:
		}
		resp, err := probeClient.Get(url + probe)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == 200 {
				if probe == "/ready" {
					awaitRulesLoaded(t, p, time.Now().Add(2*time.Minute))
				}
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not ready after 60s:\n%s", name, p.Logs())
	return nil
}
