package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds random bytes as config.yaml and providers.yaml. Load must
// never panic, and whatever it accepts must validate.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"central-config.yaml", "proxy-config.yaml", "providers.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, []byte(nil))
		f.Add([]byte(nil), data)
	}
	f.Add([]byte("server: &a {<<: *a}\n"), []byte("providers: {a: &p {<<: [*p, *p]}}\n"))
	f.Add([]byte("server:\n  http_port: ${PORT}\n  shutdown_timeout: ${D}\n"), []byte("providers:\n  x: ${X}\n"))
	f.Add([]byte("? [a]\n: b\n---\nc: d\n"), []byte("providers: !!binary aGk=\n"))

	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, config, providers []byte) {
		// One directory per worker process would be enough, but files are
		// rewritten per input; TempDir per input keeps runs independent.
		d, err := os.MkdirTemp(dir, "")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(d)
		path := filepath.Join(d, "config.yaml")
		if err := os.WriteFile(path, config, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, ProvidersFile), providers, 0o600); err != nil {
			t.Fatal(err)
		}
		env := []string{"PORT=9000", "D=5m", "X=a\nb: c", "TOKENOMICS_SERVER_HTTP_PORT=" + string(config[:min(len(config), 3)])}
		c, err := Load(path, LoadOptions{Environ: env, Required: true})
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Load accepted a config that does not validate: %v", err)
		}
	})
}
