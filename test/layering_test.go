package test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const mod = "github.com/tokenomics-dev/tokenomics"

// TestLayering keeps the dependency direction of DESIGN.md true: core never
// imports central, cmd or plugins; providers import no core package; sdk
// imports only sdk and the standard library, plugins only those and other
// plugins (plugins/builtin registers the built-in types' packages).
func TestLayering(t *testing.T) {
	// go list -json prints one object per package; -deps adds their deps.
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Deps,Standard", "./...")
	cmd.Dir = ".." // the module root: tests run in their package directory
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	type pkg struct {
		ImportPath string
		Deps       []string
		Standard   bool
	}
	rules := []struct {
		name      string
		prefix    string
		forbidden []string
		onlyStd   []string // if set, non-std deps must start with one of these
	}{
		{name: "core", prefix: mod + "/core/", forbidden: []string{mod + "/central", mod + "/cmd", mod + "/plugins/"}},
		{name: "providers", prefix: mod + "/providers", forbidden: []string{mod + "/core", mod + "/central", mod + "/cmd"}},
		{name: "central", prefix: mod + "/central", forbidden: []string{mod + "/cmd"}},
		{name: "sdk", prefix: mod + "/sdk", onlyStd: []string{mod + "/sdk"}},
		{name: "plugins", prefix: mod + "/plugins/", onlyStd: []string{mod + "/sdk", mod + "/plugins/"}},
	}
	checked := 0
	for dec.More() {
		var p pkg
		require.NoError(t, dec.Decode(&p))
		if p.Standard || !strings.HasPrefix(p.ImportPath, mod) {
			continue
		}
		for _, r := range rules {
			if !strings.HasPrefix(p.ImportPath, r.prefix) {
				continue
			}
			checked++
			for _, d := range p.Deps {
				for _, f := range r.forbidden {
					if strings.HasPrefix(d, f) {
						t.Errorf("%s (%s) must not import %s", p.ImportPath, r.name, d)
					}
				}
				if r.onlyStd != nil && strings.Contains(strings.SplitN(d, "/", 2)[0], ".") && !hasAnyPrefix(d, r.onlyStd) {
					t.Errorf("%s (%s) may import only the standard library and %v, not %s", p.ImportPath, r.name, r.onlyStd, d)
				}
			}
		}
	}
	require.Positive(t, checked, "no package checked: is the module path right?")
}

func hasAnyPrefix(s string, ps []string) bool {
	for _, p := range ps {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
