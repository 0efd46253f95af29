package policy

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func memoryPolicy(t *testing.T, filePath, fileName string) *Policy {
	t.Helper()
	doc := fmt.Sprintf(`{"memory": {"enabled": true, "file_path": %q, "file_name": %q}}`, filePath, fileName)
	p, err := Parse([]byte(doc))
	require.NoError(t, err)
	return p
}

func TestCheckMemoryPaths(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		policy  *Policy
		allowed []string
		baseDir string
		refused bool
	}{
		{name: "developer directory inside", policy: mustParse(t, "developer.json"), allowed: []string{"/var/log/tokenomics"}},
		{name: "directory equal to allowed dir", policy: mustParse(t, "developer.json"), allowed: []string{"/var/log/tokenomics/sessions"}},
		{name: "allowed dir with trailing slash", policy: mustParse(t, "developer.json"), allowed: []string{"/var/log/tokenomics/"}},
		{name: "second allowed dir matches", policy: mustParse(t, "developer.json"), allowed: []string{"/srv", "/var/log"}},
		{name: "root allowed", policy: mustParse(t, "developer.json"), allowed: []string{"/"}},
		{name: "contractor file inside", policy: mustParse(t, "contractor.json"), allowed: []string{"/var/log/tokenomics"}},
		{name: "file equal to allowed dir", policy: mustParse(t, "contractor.json"), allowed: []string{"/var/log/tokenomics/contractor-sessions.md"}, refused: true},
		{name: "sibling with common prefix", policy: mustParse(t, "contractor.json"), allowed: []string{"/var/log/tokenom"}, refused: true},
		{name: "outside", policy: mustParse(t, "developer.json"), allowed: []string{"/srv/tokenomics"}, refused: true},
		{name: "no allowed dirs", policy: mustParse(t, "developer.json"), refused: true},
		{name: "only empty allowed dirs", policy: mustParse(t, "developer.json"), allowed: []string{""}, refused: true},
		{name: "relative file under base", policy: memoryPolicy(t, "memory/notes.md", ""), allowed: []string{"memory"}, baseDir: "/srv/data"},
		{name: "relative file, absolute allowed", policy: memoryPolicy(t, "memory/notes.md", ""), allowed: []string{"/srv/data"}, baseDir: "/srv/data"},
		{name: "relative file outside", policy: memoryPolicy(t, "notes.md", ""), allowed: []string{"/srv/data/memory"}, baseDir: "/srv/data", refused: true},
		{name: "dot segments cleaned", policy: memoryPolicy(t, "/srv/data/./memory//x.md", ""), allowed: []string{"/srv/data/memory"}},
		{name: "disabled memory is not checked", policy: &Policy{Memory: &Memory{FilePath: "/etc/passwd"}}},
		{name: "no memory", policy: &Policy{}},
		{name: "unvalidated dotdot", policy: &Policy{Memory: &Memory{Enabled: true, FilePath: "/srv/data/../../etc/x"}}, allowed: []string{"/"}, refused: true},
		{name: "unvalidated empty path", policy: &Policy{Memory: &Memory{Enabled: true}}, allowed: []string{"/"}, refused: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.policy.CheckMemoryPaths(tc.allowed, tc.baseDir)
			if !tc.refused {
				assert.NoError(t, err)
				return
			}
			var fe *FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, "memory.file_path", fe.Path)
		})
	}
}

func TestCheckMemoryPathsMessage(t *testing.T) {
	t.Parallel()
	err := mustParse(t, "developer.json").CheckMemoryPaths([]string{"/srv/a", "/srv/b"}, "/")
	require.Error(t, err)
	// The operator reads this message; it must name the dirs and the fix.
	assert.Contains(t, err.Error(), "/srv/a, /srv/b")
	assert.Contains(t, err.Error(), "memory.allowed_dirs")
	assert.Contains(t, err.Error(), "config.yaml")
}
