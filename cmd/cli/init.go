package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokenomics-dev/tokenomics/core/config"
	"github.com/tokenomics-dev/tokenomics/core/store"
)

func init() { register(initCmd) }

type initFlags struct {
	token, host, provider, output string
	port                          int
	insecure, tls                 bool
}

func initCmd(a *app) *cobra.Command {
	f := &initFlags{}
	cmd := &cobra.Command{
		Use:   "init --token tkn_... [--host H] [--port P] [--tls|--insecure] [--provider NAME] [--output shell|dotenv|json]",
		Short: "Print the environment a client needs to use the proxy",
		Long: `Prints OPENAI_BASE_URL / OPENAI_API_KEY and ANTHROPIC_BASE_URL / ANTHROPIC_API_KEY
pointing at the proxy, so unchanged OpenAI and Anthropic SDKs, curl and agent
tools use it. --tls selects https, --insecure plain http; without either, https
is used for port 443 and the configured https_port, http otherwise.
--provider limits the output to one provider (openai, anthropic, generic, or a
cli_maps alias from config.yaml such as claude).`,
		Example: `  eval $(tokenomics init --token tkn_... --host proxy.internal --port 8443 --insecure)`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			vars, err := clientEnv(f, cfg, cmd.Flags().Changed("port"))
			if err != nil {
				return err
			}
			return a.writeEnv(vars, f.output)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.token, "token", "", "the client's tkn_ token")
	fl.StringVar(&f.host, "host", "localhost", "proxy host name or address")
	fl.IntVar(&f.port, "port", 0, "proxy port (default: server.http_port from config)")
	fl.BoolVar(&f.insecure, "insecure", false, "plain http (no TLS)")
	fl.BoolVar(&f.tls, "tls", false, "https")
	fl.StringVar(&f.provider, "provider", "", "only this provider's variables (openai, anthropic, generic or a cli_maps alias)")
	fl.StringVarP(&f.output, "output", "o", "shell", "shell, dotenv or json")
	_ = cmd.MarkFlagRequired("token")
	return cmd
}

type envVar struct{ name, value string }

func clientEnv(f *initFlags, cfg *config.Config, portSet bool) ([]envVar, error) {
	if !store.ValidTokenFormat(f.token) {
		return nil, errors.New("--token: expected a token of the form tkn_... as printed by token create")
	}
	if f.tls && f.insecure {
		return nil, errors.New("--tls and --insecure exclude each other")
	}
	switch f.output {
	case "shell", "dotenv", "json":
	default:
		return nil, fmt.Errorf("--output: must be shell, dotenv or json, not %q", f.output)
	}
	port := f.port
	if !portSet {
		port = cfg.Server.HTTPPort
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("--port: %d is not a TCP port", port)
	}
	if f.host == "" || strings.ContainsAny(f.host, "/?#@ ") {
		return nil, fmt.Errorf("--host: %q is not a host name or address", f.host)
	}
	scheme := "http"
	if f.tls || (!f.insecure && (port == 443 || port == cfg.Server.HTTPSPort)) {
		scheme = "https"
	}
	base := scheme + "://" + net.JoinHostPort(f.host, strconv.Itoa(port))
	openai := []envVar{{"OPENAI_BASE_URL", base + "/v1"}, {"OPENAI_API_KEY", f.token}}
	anthropic := []envVar{{"ANTHROPIC_BASE_URL", base}, {"ANTHROPIC_API_KEY", f.token}}
	name := f.provider
	if alias, ok := cfg.CLIMaps[name]; ok {
		name = alias
	}
	switch name {
	case "":
		return append(openai, anthropic...), nil
	case "openai", "generic", "groq", "mistral":
		return openai, nil
	case "anthropic":
		return anthropic, nil
	}
	return nil, fmt.Errorf("--provider: unknown provider %q (openai, anthropic, generic or a cli_maps alias)", f.provider)
}

func (a *app) writeEnv(vars []envVar, format string) error {
	if format == "json" {
		m := make(map[string]string, len(vars))
		for _, v := range vars {
			m[v.name] = v.value
		}
		return a.printJSON(m)
	}
	var b strings.Builder
	for _, v := range vars {
		if format == "shell" {
			// The trailing ";" keeps `eval $(tokenomics init ...)` correct
			// after the unquoted substitution joins the lines.
			fmt.Fprintf(&b, "export %s=%s;\n", v.name, shellQuote(v.value))
		} else {
			q, _ := json.Marshal(v.value)
			fmt.Fprintf(&b, "%s=%s\n", v.name, q)
		}
	}
	_, err := fmt.Fprint(a.stdout, b.String())
	return err
}

// shellQuote wraps s in single quotes, which the shell takes literally.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
