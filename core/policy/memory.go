package policy

import (
	"fmt"
	"path/filepath"
	"strings"
)

// CheckMemoryPaths refuses a memory configuration that would write outside
// the operator's allowed directories. When memory is enabled, file_path (a
// file, or a directory when file_name is set) must lie inside one of
// allowedDirs. Relative allowed directories and a relative file_path are
// taken relative to baseDir. Paths are compared after filepath.Abs, which
// cleans them; symbolic links are not resolved. The error is a *FieldError
// on memory.file_path.
func (p *Policy) CheckMemoryPaths(allowedDirs []string, baseDir string) error {
	m := p.Memory
	if m == nil || !m.Enabled {
		return nil
	}
	if m.FilePath == "" {
		return &FieldError{Path: "memory.file_path", Msg: "is required when memory is enabled"}
	}
	if hasDotDot(m.FilePath) {
		return &FieldError{Path: "memory.file_path", Msg: "must not contain .. segments"}
	}
	target, err := absUnder(baseDir, m.FilePath)
	if err != nil {
		return &FieldError{Path: "memory.file_path", Msg: fmt.Sprintf("resolving %q: %v", m.FilePath, err)}
	}
	isDir := m.FileName != ""

	var dirs []string
	for _, d := range allowedDirs {
		if d == "" {
			continue
		}
		dir, err := absUnder(baseDir, d)
		if err != nil {
			continue // an unusable allowed dir admits nothing
		}
		dirs = append(dirs, dir)
		if inside(target, dir, isDir) {
			return nil
		}
	}
	const hint = "an operator can allow another directory under memory.allowed_dirs in config.yaml"
	if len(dirs) == 0 {
		return &FieldError{Path: "memory.file_path", Msg: fmt.Sprintf(
			"%q: no directory is allowed for memory files; %s", m.FilePath, hint)}
	}
	return &FieldError{Path: "memory.file_path", Msg: fmt.Sprintf(
		"%q is outside the allowed directories (%s); %s", m.FilePath, strings.Join(dirs, ", "), hint)}
}

func absUnder(base, p string) (string, error) {
	if !filepath.IsAbs(p) {
		p = filepath.Join(base, p)
	}
	return filepath.Abs(p)
}

// inside reports whether target lies in dir. A file must lie strictly
// below dir; a directory may be dir itself.
func inside(target, dir string, targetIsDir bool) bool {
	if target == dir {
		return targetIsDir
	}
	prefix := dir
	if !strings.HasSuffix(prefix, string(filepath.Separator)) {
		prefix += string(filepath.Separator)
	}
	return strings.HasPrefix(target, prefix)
}
