package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tokenomics-dev/tokenomics/core/manifest"
	"github.com/tokenomics-dev/tokenomics/core/rules"
)

func pluginBuildCmd(a *app) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "build DIR [-o OUT.wasm]",
		Short: "Compile a Go plugin (a main package using the sdk) to WebAssembly",
		Long: `Runs GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared in DIR. Needs the go
command on PATH. The output defaults to <name of DIR>.wasm in the current
directory; its sha256 is what a policy's wasm rule pins.`,
		Example: `  tokenomics plugin build ./examples/custom-plugin -o orion.wasm`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if out == "" {
				abs, err := filepath.Abs(dir)
				if err != nil {
					return fmt.Errorf("resolving %q: %w", dir, err)
				}
				out = filepath.Base(abs) + ".wasm"
			}
			if err := rules.BuildPlugin(cmd.Context(), dir, out); err != nil {
				return err
			}
			b, err := os.ReadFile(out)
			if err != nil {
				return fmt.Errorf("reading the built plugin: %w", err)
			}
			fmt.Fprintf(a.stdout, "Built %s (%d bytes)\nsha256: %s\n", out, len(b), manifest.Sum(b))
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "output file (default <dir name>.wasm)")
	return cmd
}
