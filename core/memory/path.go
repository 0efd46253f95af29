package memory

import (
	"fmt"
	"path/filepath"
	"strings"
)

// target is where an entry is written: an allowed directory (root) and the
// file's slash-separated path below it (rel).
type target struct {
	path string // root joined with rel, for logs and the open-file map
	root string
	rel  string
}

// Resolve gives the file an entry goes to, or an error wrapping
// ErrOutsideAllowed. Placeholders in the file name are expanded first, so
// the check covers the final path.
func (w *Writer) Resolve(e Entry) (string, error) {
	t, err := w.target(e)
	return t.path, err
}

func (w *Writer) target(e Entry) (target, error) {
	return w.resolve(e.FilePath, expand(e.FileName, e))
}

// targetKey is a file_path and an expanded file name.
type targetKey struct{ path, name string }

// maxCachedTargets bounds the writer's resolved paths ({date} and
// {token_hash} names make new ones); past it the cache starts over.
const maxCachedTargets = 4096

// cachedTarget is target for the writer goroutine: the resolution depends
// only on the file path, the expanded name and the allowed directories,
// which are fixed for a Writer, so each pair is resolved (absolute path,
// checks against every allowed directory) once.
func (w *Writer) cachedTarget(e Entry) (target, error) {
	k := targetKey{e.FilePath, expand(e.FileName, e)}
	if t, ok := w.targets[k]; ok {
		return t, nil
	}
	t, err := w.resolve(k.path, k.name)
	if err != nil {
		return t, err // refused entries are rare: not cached
	}
	if len(w.targets) >= maxCachedTargets {
		clear(w.targets)
	}
	w.targets[k] = t
	return t, nil
}

func (w *Writer) resolve(filePath, name string) (target, error) {
	p := filePath
	if name != "" {
		if err := checkName(name); err != nil {
			return target{}, err
		}
		p = filepath.Join(p, filepath.FromSlash(name))
	}
	if hasDotDot(filePath) {
		return target{}, fmt.Errorf("%w: %q has a .. segment", ErrOutsideAllowed, filePath)
	}
	abs := absUnder(w.opts.BaseDir, p)
	for _, dir := range w.allowed {
		rel, err := filepath.Rel(dir, abs)
		if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
			continue
		}
		return target{path: abs, root: dir, rel: filepath.ToSlash(rel)}, nil
	}
	return target{}, fmt.Errorf("%w: %s", ErrOutsideAllowed, abs)
}

// expand replaces the file-name placeholders: {token_hash} and
// {session_id} (the same value, as in the original project: the first 16
// hex digits of the token hash) and {date} (YYYY-MM-DD, UTC). The writer
// expands every record's name, so this is one pass and one string, not a
// strings.Replacer built per call.
func expand(name string, e Entry) string {
	if !strings.Contains(name, "{") {
		return name
	}
	var b strings.Builder
	b.Grow(len(name) + 16)
	for {
		i := strings.IndexByte(name, '{')
		if i < 0 {
			b.WriteString(name)
			return b.String()
		}
		b.WriteString(name[:i])
		name = name[i:]
		switch {
		case strings.HasPrefix(name, "{token_hash}"):
			b.WriteString(prefix(e.TokenHash))
			name = name[len("{token_hash}"):]
		case strings.HasPrefix(name, "{session_id}"):
			b.WriteString(prefix(e.TokenHash))
			name = name[len("{session_id}"):]
		case strings.HasPrefix(name, "{date}"):
			var d [10]byte
			b.Write(e.Time.UTC().AppendFormat(d[:0], "2006-01-02"))
			name = name[len("{date}"):]
		default:
			b.WriteByte('{')
			name = name[1:]
		}
	}
}

// checkName refuses an expanded file name that could leave its directory:
// it must be "/"-separated segments, none empty, "." or "..".
func checkName(name string) error {
	if strings.ContainsAny(name, "\\\x00") || strings.HasPrefix(name, "/") {
		return fmt.Errorf("%w: bad file name %q", ErrOutsideAllowed, name)
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("%w: bad file name %q", ErrOutsideAllowed, name)
		}
	}
	return nil
}

// hasDotDot reports whether p has a ".." segment, with either separator.
func hasDotDot(p string) bool {
	for _, seg := range strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' }) {
		if seg == ".." {
			return true
		}
	}
	return false
}
