package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"

	"github.com/tokenomics-dev/tokenomics/core/config"
)

// app carries what every command shares: output streams and the global flags.
type app struct {
	stdout, stderr io.Writer
	configPath     string
	providersPath  string
	logLevel       string
	environ        []string // nil = os.Environ()
}

// exitError lets a command choose its exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// Main runs the CLI and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	if err := loadDotenv(dotenvFiles(), os.LookupEnv, os.Setenv); err != nil {
		fmt.Fprintln(stderr, "Error:", err)
		return 1
	}
	root := a.rootCmd()
	root.SetArgs(args)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "Error:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "tokenomics",
		Short: "An LLM gateway with per-token budgets, rate limits and WASM content rules",
		Long: `Tokenomics sits between a team and its LLM providers. Each client gets a tkn_
token carrying a policy (models, budget, rate limits, content rules); the proxy
enforces it on every request.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	pf := root.PersistentFlags()
	pf.StringVar(&a.configPath, "config", "config.yaml", "path to config.yaml")
	pf.StringVar(&a.providersPath, "providers", "", "path to providers.yaml (default: beside the config file)")
	pf.StringVar(&a.logLevel, "log-level", "", "override logging.level (trace, debug, info, warn, error)")
	for _, add := range commands {
		root.AddCommand(add(a))
	}
	return root
}

// commands are registered by each command file's init, Caddy style.
var commands []func(*app) *cobra.Command

func register(f func(*app) *cobra.Command) { commands = append(commands, f) }

// loadConfig reads the config the global flags name. A missing default
// config.yaml means built-in defaults; a missing --config file is an error.
func (a *app) loadConfig(cmd *cobra.Command) (*config.Config, error) {
	explicit := cmd.Flags().Changed("config")
	cfg, err := config.Load(a.configPath, config.LoadOptions{
		ProvidersPath: a.providersPath,
		Environ:       a.environ,
		Required:      explicit,
	})
	if err != nil {
		return nil, err
	}
	if a.logLevel != "" {
		cfg.Logging.Level = a.logLevel
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// logger builds the one root logger; subsystems call Named on it.
func (a *app) logger(cfg *config.Config) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       "tokenomics",
		Level:      hclog.LevelFromString(cfg.Logging.Level),
		JSONFormat: cfg.Logging.Format == "json",
		Output:     a.stderr,
	})
}

// cliLogger is for one-shot admin commands: plain text warnings on stderr,
// whatever format the servers log in.
func (a *app) cliLogger() hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "tokenomics", Level: hclog.Warn, Output: a.stderr})
}
