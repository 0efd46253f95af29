package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/joho/godotenv"
)

// dotenvFiles are read at start, in this order, as the original project
// did: ./.env, then ~/.tokenomics/.env.
func dotenvFiles() []string {
	files := []string{".env"}
	if home, err := os.UserHomeDir(); err == nil {
		files = append(files, filepath.Join(home, ".tokenomics", ".env"))
	}
	return files
}

// loadDotenv sets the variables of each existing file that are not set
// yet: the environment wins over the files and the first file over the
// second. This is what makes SEED.txt's `source .env` of a file without
// `export` work: the shell keeps the values for itself, the binary reads
// the file. A missing file is skipped; an unreadable or malformed one is
// an error naming it.
func loadDotenv(files []string, lookup func(string) (string, bool), set func(k, v string) error) error {
	for _, f := range files {
		vars, err := godotenv.Read(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", f, err)
		}
		keys := make([]string, 0, len(vars))
		for k := range vars {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if _, ok := lookup(k); ok {
				continue
			}
			if err := set(k, vars[k]); err != nil {
				return fmt.Errorf("%s: setting %s: %w", f, k, err)
			}
		}
	}
	return nil
}
