package config

import (
	"os"
	"path/filepath"
)

// DataDir is the directory holding storage.db_path, as written (so "." for
// the default "./tokenomics.db"). Nothing a policy says may write outside
// it.
func (c *Config) DataDir() string {
	return filepath.Dir(c.Storage.DBPath)
}

// Abs resolves p against the process working directory; absolute paths are
// only cleaned. Relative config paths are kept as written and resolved late
// because the binary is meant to run from its working directory.
func (c *Config) Abs(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	wd, err := os.Getwd()
	if err != nil {
		return filepath.Clean(p)
	}
	return filepath.Join(wd, p)
}
