package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadDotenv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	local, home := filepath.Join(dir, ".env"), filepath.Join(dir, "home.env")
	// The seed's .env.example style: no export, comments, a quoted value.
	require.NoError(t, os.WriteFile(local, []byte("# core\nTOKENOMICS_HASH_KEY=from-local\nALREADY=from-file\nQUOTED=\"a b # c\"\n"), 0o600))
	require.NoError(t, os.WriteFile(home, []byte("TOKENOMICS_HASH_KEY=from-home\nHOME_ONLY=yes\n"), 0o600))

	env := map[string]string{"ALREADY": "from-env"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	set := func(k, v string) error { env[k] = v; return nil }
	require.NoError(t, loadDotenv([]string{local, filepath.Join(dir, "missing.env"), home}, lookup, set))
	assert.Equal(t, map[string]string{
		"ALREADY":             "from-env",   // the environment wins
		"TOKENOMICS_HASH_KEY": "from-local", // ./.env before ~/.tokenomics/.env
		"QUOTED":              "a b # c",
		"HOME_ONLY":           "yes",
	}, env)

	bad := filepath.Join(dir, "bad.env")
	require.NoError(t, os.WriteFile(bad, []byte("KEY='unterminated\n"), 0o600))
	err := loadDotenv([]string{bad}, lookup, set)
	require.Error(t, err)
	assert.Contains(t, err.Error(), bad)
}
