package rules

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBuiltinGolden runs testdata/cases/<plugin>.yaml against the built-in
// plugins: true and false positives per detector, actions and scopes.
func TestBuiltinGolden(t *testing.T) {
	t.Parallel()
	h := sharedHost(t)
	files, err := filepath.Glob(filepath.Join("testdata", "cases", "*.yaml"))
	require.NoError(t, err)
	require.Len(t, files, 4)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		cases, err := ParseCases(raw)
		require.NoError(t, err, f)
		for _, c := range cases {
			t.Run(filepath.Base(f)+"/"+c.Name, func(t *testing.T) {
				t.Parallel()
				rep := h.runCases(context.Background(), []Case{c}, func(map[string]any) {}, nil)
				require.Empty(t, rep.Cases[0].Problems)
			})
		}
	}
}
