package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/tokenomics-dev/tokenomics/core/rules"
)

func pluginTestCmd(a *app) *cobra.Command {
	var cases string
	cmd := &cobra.Command{
		Use:   "test FILE.wasm --cases CASES.yaml",
		Short: "Run a plugin against test cases, sandboxed as in production",
		Long: `Loads FILE.wasm as a custom plugin with the proxy's sandbox and limits and runs
every case of CASES.yaml (format: docs/PLUGINS.md, "Test"). Exits 1 when a
case fails.`,
		Example: `  tokenomics plugin test orion.wasm --cases ./examples/custom-plugin/cases.yaml`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			wasm, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("reading plugin: %w", err)
			}
			yml, err := os.ReadFile(cases)
			if err != nil {
				return fmt.Errorf("reading cases: %w", err)
			}
			rep, err := rules.RunCases(cmd.Context(), wasm, yml)
			if err != nil {
				return err
			}
			for _, c := range rep.Cases {
				if len(c.Problems) == 0 {
					fmt.Fprintf(a.stdout, "PASS  %s\n", c.Name)
					continue
				}
				fmt.Fprintf(a.stdout, "FAIL  %s\n", c.Name)
				for _, p := range c.Problems {
					fmt.Fprintf(a.stdout, "      - %s\n", p)
				}
			}
			fmt.Fprintf(a.stdout, "%d passed, %d failed\n", rep.Passed, rep.Failed)
			if !rep.OK() {
				return &exitError{code: 1, err: fmt.Errorf("%d of %d cases failed", rep.Failed, rep.Passed+rep.Failed)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&cases, "cases", "", "YAML file of test cases")
	_ = cmd.MarkFlagRequired("cases")
	return cmd
}
