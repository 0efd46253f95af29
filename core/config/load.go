package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
)

// ProvidersFile is the providers file looked for beside the config file.
const ProvidersFile = "providers.yaml"

// ErrNoConfigPath is returned when LoadOptions.Required is set but no path
// was given.
var ErrNoConfigPath = errors.New("config: no config file given")

// LoadOptions tune Load.
type LoadOptions struct {
	// ProvidersPath is the providers file; "" means providers.yaml beside
	// the config file, where a missing file means built-ins only. A path
	// given here must exist.
	ProvidersPath string
	// Environ is the environment for ${} expansion, TOKENOMICS_* overrides
	// and secrets, as "NAME=value" entries; nil means os.Environ().
	Environ []string
	// Required is set when the user named the config file (--config): a
	// missing file is then an error. Otherwise a missing file means
	// defaults.
	Required bool
}

// Load reads the config file at path (""= none) and its providers file,
// applies TOKENOMICS_* overrides, sets defaults and validates. Every problem
// is returned at once (see FieldError); a missing required file wraps
// fs.ErrNotExist.
func Load(path string, opts LoadOptions) (*Config, error) {
	environ := opts.Environ
	if environ == nil {
		environ = os.Environ()
	}
	c := &Config{env: environMap(environ), set: make(map[string]bool)}
	lookup := func(name string) string { return c.env[name] }

	var errs []error
	switch data, found, err := readFile("config", path, opts.Required); {
	case err != nil:
		return nil, err
	case found:
		c.Path = path
		root, err := parseDocument(data, path)
		if err != nil {
			return nil, err
		}
		if root != nil {
			d := newDecoder(path, lookup, c.set)
			d.decode(root, reflect.ValueOf(c).Elem(), "")
			errs = append(errs, d.errs...)
		}
	}

	provPath, provRequired := opts.ProvidersPath, opts.ProvidersPath != ""
	if !provRequired && path != "" {
		provPath = filepath.Join(filepath.Dir(path), ProvidersFile)
	}
	var fileProviders []Provider
	switch data, found, err := readFile("providers", provPath, provRequired); {
	case err != nil:
		return nil, err
	case found:
		c.ProvidersPath = provPath
		root, err := parseDocument(data, provPath)
		if err != nil {
			return nil, err
		}
		if root != nil {
			// Provider paths live under "providers." and cannot clash with
			// config paths in the shared set.
			d := newDecoder(provPath, lookup, c.set)
			fileProviders, c.Pricing = d.decodeProviders(root)
			errs = append(errs, d.errs...)
		}
	}
	c.Providers = mergeProviders(fileProviders)

	errs = append(errs, c.applyEnv(c.env)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// readFile reads the what ("config", "providers") file at path. A missing file is an error only when required;
// path "" is "no file" (an error when required).
func readFile(what, path string, required bool) (data []byte, found bool, err error) {
	if path == "" {
		if required {
			return nil, false, ErrNoConfigPath
		}
		return nil, false, nil
	}
	data, err = os.ReadFile(path)
	switch {
	case err == nil:
		return data, true, nil
	case errors.Is(err, fs.ErrNotExist) && !required:
		return nil, false, nil
	default:
		// The *fs.PathError already names the path.
		return nil, false, fmt.Errorf("config: reading %s file: %w", what, err)
	}
}

// environMap turns "NAME=value" entries into a map; a later entry wins, as
// in os/exec.
func environMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if name, val, ok := strings.Cut(kv, "="); ok && name != "" {
			m[name] = val
		}
	}
	return m
}
