package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"text/template"

	"github.com/Masterminds/semver/v3"
	"github.com/spf13/cobra"
)

// sdkModule is the module that holds the plugin SDK (package sdk).
const sdkModule = "github.com/tokenomics-dev/tokenomics"

var pluginNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

func pluginNewCmd(a *app) *cobra.Command {
	var dir, module, sdkPath, sdkVersion string
	var noTidy bool
	cmd := &cobra.Command{
		Use:   "new NAME [--dir DIR] [--sdk CHECKOUT | --sdk-version vX.Y.Z]",
		Short: "Create a ready plugin module: go.mod, main.go, cases.yaml and a Makefile",
		Long: `Writes a new plugin module in DIR (default ./NAME): a working plugin that
blocks or masks configured words, its test cases (texts, a stream split
across deltas, a refused config) and a Makefile with build, test, bench,
sign and push targets.

The go.mod requires the SDK module (` + sdkModule + `) at this
binary's version, so the module builds anywhere without a replace. A
development build has no published version: give --sdk with the path of a
Tokenomics checkout (the go.mod then replaces the module with it), or
--sdk-version with a published version. go mod tidy runs at the end when
the go command is on PATH (--no-tidy skips it).`,
		Example: `  tokenomics plugin new acme-words
  cd acme-words && make test
  tokenomics plugin new acme-words --sdk ~/src/tokenomics   # against a checkout`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if !pluginNameRE.MatchString(name) {
				return fmt.Errorf("plugin name %q: use lowercase letters, digits, '.', '_' and '-' (policies name it so)", name)
			}
			if dir == "" {
				dir = name
			}
			if module == "" {
				module = "example.com/" + name
			}
			gomod, err := pluginGoMod(module, sdkPath, sdkVersion)
			if err != nil {
				return err
			}
			if _, err := os.Stat(dir); err == nil {
				return fmt.Errorf("%s already exists; choose another --dir", dir)
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("creating %s: %w", dir, err)
			}
			data := struct{ Name, Module string }{name, module}
			files := []struct{ name, text string }{
				{"main.go", newPluginMain}, {"cases.yaml", newPluginCases},
				{"Makefile", newPluginMakefile}, {"README.md", newPluginReadme},
			}
			if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
				return fmt.Errorf("writing go.mod: %w", err)
			}
			for _, f := range files {
				var b bytes.Buffer
				if err := template.Must(template.New(f.name).Parse(f.text)).Execute(&b, data); err != nil {
					return fmt.Errorf("writing %s: %w", f.name, err)
				}
				if err := os.WriteFile(filepath.Join(dir, f.name), b.Bytes(), 0o644); err != nil {
					return fmt.Errorf("writing %s: %w", f.name, err)
				}
			}
			fmt.Fprintf(a.stdout, "Created plugin %s in %s\n", name, dir)
			if !noTidy {
				if err := goModTidy(cmd, dir); err != nil {
					fmt.Fprintf(a.stderr, "warning: %v\nrun `go mod tidy` in %s before building\n", err, dir)
				}
			}
			fmt.Fprintf(a.stdout, "Next: cd %s && make test\n", dir)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "", "directory to create (default ./NAME)")
	f.StringVar(&module, "module", "", "Go module path (default example.com/NAME)")
	f.StringVar(&sdkPath, "sdk", "", "path of a Tokenomics checkout to build against (adds a replace to go.mod)")
	f.StringVar(&sdkVersion, "sdk-version", "", "SDK module version to require (default: this binary's version)")
	f.BoolVar(&noTidy, "no-tidy", false, "do not run go mod tidy")
	return cmd
}

// pluginGoMod writes the go.mod: the SDK module required at a published
// version, or replaced by a checkout.
func pluginGoMod(module, sdkPath, sdkVersion string) (string, error) {
	goVer := "1.26"
	if info, ok := debug.ReadBuildInfo(); ok && strings.HasPrefix(info.GoVersion, "go") {
		// The SDK module needs at least the Go this binary was built with.
		goVer = strings.TrimPrefix(info.GoVersion, "go")
		if i := strings.IndexAny(goVer, " -"); i > 0 {
			goVer = goVer[:i]
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "module %s\n\ngo %s\n\n", module, goVer)
	switch {
	case sdkPath != "" && sdkVersion != "":
		return "", errors.New("give --sdk or --sdk-version, not both")
	case sdkPath != "":
		abs, err := filepath.Abs(sdkPath)
		if err != nil {
			return "", fmt.Errorf("--sdk: %w", err)
		}
		mod, err := os.ReadFile(filepath.Join(abs, "go.mod"))
		if err != nil || !strings.HasPrefix(strings.TrimSpace(string(mod)), "module "+sdkModule+"\n") {
			return "", fmt.Errorf("--sdk %s is not a Tokenomics checkout (its go.mod must declare module %s)", sdkPath, sdkModule)
		}
		// The zero pseudo-version is the usual placeholder for a module
		// that only a replace provides.
		fmt.Fprintf(&b, "require %s v0.0.0-00010101000000-000000000000\n\n// Development: the SDK comes from this checkout.\nreplace %s => %s\n", sdkModule, sdkModule, abs)
	default:
		v := sdkVersion
		if v == "" {
			v = currentBuild().Version
		}
		if !publishedVersion(v) {
			if sdkVersion != "" {
				return "", fmt.Errorf("--sdk-version %q is not a module version (vMAJOR.MINOR.PATCH)", sdkVersion)
			}
			return "", fmt.Errorf("this tokenomics binary is a development build (version %q) and no published SDK version matches it: give --sdk with the path of your Tokenomics checkout, or --sdk-version vX.Y.Z", v)
		}
		fmt.Fprintf(&b, "require %s %s\n", sdkModule, v)
	}
	return b.String(), nil
}

// publishedVersion tells whether v can be required as a module version: a
// v-prefixed semantic version (a tag or a pseudo-version), not a dirty tree.
func publishedVersion(v string) bool {
	if !strings.HasPrefix(v, "v") || strings.Contains(v, "dirty") {
		return false
	}
	_, err := semver.StrictNewVersion(strings.TrimPrefix(v, "v"))
	return err == nil
}

func goModTidy(cmd *cobra.Command, dir string) error {
	if _, err := exec.LookPath("go"); err != nil {
		return errors.New("the go command is not on PATH")
	}
	c := exec.CommandContext(cmd.Context(), "go", "mod", "tidy")
	c.Dir = dir
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("go mod tidy: %w\n%s", err, bytes.TrimSpace(out))
	}
	return nil
}
