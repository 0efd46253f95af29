package console

import (
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"
	"time"
)

var funcs = template.FuncMap{
	"short": short,
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"whenp": func(t *time.Time) string {
		if t == nil {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"ago": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		d := time.Since(t).Round(time.Second)
		switch {
		case d < time.Minute:
			return fmt.Sprintf("%ds ago", int(d.Seconds()))
		case d < time.Hour:
			return fmt.Sprintf("%dm ago", int(d.Minutes()))
		default:
			return fmt.Sprintf("%.1fh ago", d.Hours())
		}
	},
	"op": func(b byte) string { return string(b) },
	"diffclass": func(b byte) string {
		switch b {
		case '+':
			return "add"
		case '-':
			return "del"
		}
		return "same"
	},
	"join": strings.Join,
	"add":  func(a, b int64) int64 { return a + b },
	"f":    func(x float64) string { return fmt.Sprintf("%.1f", x) },
}

// parsePages builds one template set per page: layout.html plus the page.
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parsing the console layout: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("parsing console page %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}
