package store

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mappedKB is the resident size of this process's mappings of path, from
// /proc/self/smaps.
func mappedKB(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	require.NoError(t, err)
	defer f.Close()
	total, in := 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) > 0 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			in = strings.HasSuffix(line, " "+path)
			continue
		}
		if in && len(fields) == 3 && fields[0] == "Rss:" {
			n, err := strconv.Atoi(fields[1])
			require.NoError(t, err)
			total += n
		}
	}
	require.NoError(t, sc.Err())
	return total
}

// TestPassesReleaseFilePages: the pages a pass over the whole file maps
// (verify at open, a walk with Each) do not stay resident, and the data
// reads back as before.
func TestPassesReleaseFilePages(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.db")
	db := openAt(t, path, nil)
	policies := make([]json.RawMessage, 5000)
	for i := range policies {
		policies[i] = json.RawMessage(fmt.Sprintf(`{"model":"m-%d"}`, i))
	}
	_, err := db.CreateMany(policies, nil)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	db = openAt(t, path, nil)
	assert.Less(t, mappedKB(t, path), 64, "verify's pass is released")
	require.NoError(t, db.Bolt().View(verify)) // every page, not released
	touched := mappedKB(t, path)
	require.Greater(t, touched, 512)
	n := 0
	require.NoError(t, db.Each(func(Record) error { n++; return nil }))
	require.Equal(t, 5000, n)
	assert.Less(t, mappedKB(t, path), touched/8, "Each's pass is released")
	recs, err := db.List()
	require.NoError(t, err)
	require.Len(t, recs, 5000)
}
