package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// readyFile is what --ready-file receives once every listener accepts
// connections: KEY=value lines a shell can source and a test can parse,
// naming the process and the addresses it actually bound (port 0 and
// handed-over sockets included).
type readyFile map[string]string

// write replaces path atomically, so a reader never sees half a file.
func (r readyFile) write(path string) error {
	if path == "" {
		return nil
	}
	r["PID"] = strconv.Itoa(os.Getpid())
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, r[k])
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ready-*")
	if err != nil {
		return fmt.Errorf("--ready-file: %w", err)
	}
	if _, err := tmp.WriteString(b.String()); err != nil {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("--ready-file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("--ready-file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("--ready-file: %w", err)
	}
	return nil
}

// removeReadyFile is called on shutdown: a stale file must not announce a
// process that is gone.
func removeReadyFile(path string) {
	if path != "" {
		_ = os.Remove(path)
	}
}
