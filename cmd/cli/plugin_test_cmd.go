package cli

import (
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokenomics-dev/tokenomics/core/rules"
)

func pluginTestCmd(a *app) *cobra.Command {
	var cases string
	var bench bool
	var benchTime time.Duration
	cmd := &cobra.Command{
		Use:   "test FILE.wasm --cases CASES.yaml [--bench]",
		Short: "Run a plugin against test cases, sandboxed as in production",
		Long: `Loads FILE.wasm as a custom plugin with the proxy's sandbox and limits and runs
every case of CASES.yaml (format: docs/PLUGINS.md, "Test"). Each case's rule
goes through the proxy's policy parser, so defaults such as on_error are the
ones production applies. A case may give texts (one check), a stream (a
streamed answer, delta by delta, with the proxy's hold-back) or expect a
configure error. Exits 1 when a case fails.

With --bench, every passing case that checks something is then run for
about --bench-time, and its cost is printed: microseconds per run (one
check, or the whole stream) and host-side Go allocations per run.`,
		Example: `  tokenomics plugin test orion.wasm --cases ./examples/custom-plugin/cases.yaml
  tokenomics plugin test orion.wasm --cases cases.yaml --bench --bench-time 2s`,
		Args: cobra.ExactArgs(1),
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
			if bench {
				return a.benchCases(cmd, wasm, yml, benchTime)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&cases, "cases", "", "YAML file of test cases")
	cmd.Flags().BoolVar(&bench, "bench", false, "after the cases pass, measure each one: µs per run and allocations per run")
	cmd.Flags().DurationVar(&benchTime, "bench-time", time.Second, "how long to run each case with --bench")
	_ = cmd.MarkFlagRequired("cases")
	return cmd
}

func (a *app) benchCases(cmd *cobra.Command, wasm, yml []byte, d time.Duration) error {
	res, err := rules.BenchCases(cmd.Context(), wasm, yml, d)
	if err != nil {
		return fmt.Errorf("benchmarking: %w", err)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	for _, r := range res {
		if r.Skipped != "" {
			fmt.Fprintf(tw, "SKIP\t%s\t(%s)\n", r.Name, r.Skipped)
			continue
		}
		per := "µs/check"
		if r.StreamPerCall {
			per = "µs/stream"
		}
		fmt.Fprintf(tw, "BENCH\t%s\t%.2f %s\t%.1f allocs\t%.0f B\t%d runs\n",
			r.Name, float64(r.PerRun.Nanoseconds())/1e3, per, r.AllocsPerRun, r.BytesPerRun, r.Runs)
	}
	return tw.Flush()
}
