package cli

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokenomics-dev/tokenomics/core/config"
	"github.com/tokenomics-dev/tokenomics/core/store"
)

func init() { register(initCmd) }

type initFlags struct {
	token, host, provider, output string
	caFile                        string
	port                          int
	insecure, tls                 bool
}

func initCmd(a *app) *cobra.Command {
	f := &initFlags{}
	cmd := &cobra.Command{
		Use:   "init --token tkn_... [--host H] [--port P] [--tls [--ca-file ca.pem]|--insecure] [--provider NAME] [--output shell|dotenv|json]",
		Short: "Print the environment a client needs to use the proxy",
		Long: `Prints OPENAI_BASE_URL / OPENAI_API_KEY and ANTHROPIC_BASE_URL / ANTHROPIC_API_KEY
pointing at the proxy, so unchanged OpenAI and Anthropic SDKs, curl and agent
tools use it. OPENAI_BASE_URL ends in /v1, as the OpenAI SDKs expect.
ANTHROPIC_BASE_URL is the proxy's root: the official Anthropic SDKs append
/v1/messages to it, and @ai-sdk/anthropic appends /messages, which the proxy
accepts as an alias of /v1/messages, so both families work with it. --tls
selects https, --insecure plain http; without either, https is used for port
443 and the configured https_port, http otherwise.

On stderr init also lists the base URL each SDK family takes when code
passes one explicitly instead of reading the environment:
  openai (Node, Python), @ai-sdk/openai, @langchain/openai   .../v1
  @anthropic-ai/sdk, anthropic (Python), @langchain/anthropic the root
  @ai-sdk/anthropic (createAnthropic({baseURL}))              .../v1
Each is that SDK's documented default form (api.openai.com/v1,
api.anthropic.com, api.anthropic.com/v1) with the proxy in place of the host.
--provider limits the output to one provider (openai, anthropic, generic, or a
cli_maps alias from config.yaml such as claude).

With plain http the token travels in clear text: init says so on stderr.
--ca-file names the CA certificate that signed the proxy's certificate (the
generated one is server.tls.cert_dir/ca.pem) and adds SSL_CERT_FILE (Go,
OpenSSL, curl), NODE_EXTRA_CA_CERTS (Node) and REQUESTS_CA_BUNDLE (Python
requests/httpx) so the SDKs trust it. SSL_CERT_FILE and REQUESTS_CA_BUNDLE
replace the default trust store of the programs that read them.`,
		Example: `  eval $(tokenomics init --token tkn_... --host proxy.internal --port 8443 --insecure)
  eval $(tokenomics init --token tkn_... --host proxy.internal --port 8443 --tls --ca-file certs/ca.pem)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig(cmd)
			if err != nil {
				return err
			}
			vars, err := clientEnv(f, cfg, cmd.Flags().Changed("port"))
			if err != nil {
				return err
			}
			if len(vars) > 0 && strings.HasPrefix(vars[0].value, "http://") {
				fmt.Fprintln(a.stderr, "warning: plain http: the token travels in clear text to the proxy; use --tls (and --ca-file) unless the network is trusted")
			}
			if f.caFile != "" {
				fmt.Fprintln(a.stderr, "note: SSL_CERT_FILE and REQUESTS_CA_BUNDLE replace the default CA list of the programs that read them; append the proxy's CA to a copy of the system bundle if those programs also reach other HTTPS sites")
			}
			if err := a.writeEnv(vars, f.output); err != nil {
				return err
			}
			fmt.Fprint(a.stderr, sdkBaseURLs(vars))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.token, "token", "", "the client's tkn_ token")
	fl.StringVar(&f.host, "host", "localhost", "proxy host name or address")
	fl.IntVar(&f.port, "port", 0, "proxy port (default: server.http_port from config)")
	fl.BoolVar(&f.insecure, "insecure", false, "plain http (no TLS)")
	fl.BoolVar(&f.tls, "tls", false, "https")
	fl.StringVar(&f.caFile, "ca-file", "", "the CA certificate clients must trust (e.g. server.tls.cert_dir/ca.pem); implies https")
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
	if f.caFile != "" && f.insecure {
		return nil, errors.New("--ca-file and --insecure exclude each other: a CA is for https")
	}
	scheme := "http"
	if f.tls || f.caFile != "" || (!f.insecure && (port == 443 || port == cfg.Server.HTTPSPort)) {
		scheme = "https"
	}
	var trust []envVar
	if f.caFile != "" {
		ca, err := caBundle(f.caFile)
		if err != nil {
			return nil, err
		}
		trust = []envVar{{"SSL_CERT_FILE", ca}, {"NODE_EXTRA_CA_CERTS", ca}, {"REQUESTS_CA_BUNDLE", ca}}
	}
	base := scheme + "://" + net.JoinHostPort(f.host, strconv.Itoa(port))
	openai := []envVar{{"OPENAI_BASE_URL", base + "/v1"}, {"OPENAI_API_KEY", f.token}}
	// The root, not base+"/v1": the Anthropic SDKs add /v1/messages
	// themselves, and @ai-sdk/anthropic's /messages is served as an alias.
	anthropic := []envVar{{"ANTHROPIC_BASE_URL", base}, {"ANTHROPIC_API_KEY", f.token}}
	name := f.provider
	if alias, ok := cfg.CLIMaps[name]; ok {
		name = alias
	}
	switch name {
	case "":
		return append(append(openai, anthropic...), trust...), nil
	case "openai", "generic", "groq", "mistral":
		return append(openai, trust...), nil
	case "anthropic":
		return append(anthropic, trust...), nil
	}
	return nil, fmt.Errorf("--provider: unknown provider %q (openai, anthropic, generic or a cli_maps alias)", f.provider)
}

// sdkBaseURLs lists, for code that configures an SDK explicitly, the base
// URL each family expects: the OpenAI SDKs and both Vercel AI SDK providers
// end theirs in /v1 (their defaults are https://api.openai.com/v1 and
// https://api.anthropic.com/v1); the Anthropic SDKs, and LangChain's
// ChatAnthropic that wraps them, take the root and add /v1/messages.
func sdkBaseURLs(vars []envVar) string {
	var b strings.Builder
	for _, v := range vars {
		switch v.name {
		case "OPENAI_BASE_URL":
			fmt.Fprintf(&b, "  baseURL for openai (Node, Python), @ai-sdk/openai, @langchain/openai: %s\n", v.value)
		case "ANTHROPIC_BASE_URL":
			fmt.Fprintf(&b, "  baseURL for @anthropic-ai/sdk, anthropic (Python), @langchain/anthropic: %s\n", v.value)
			fmt.Fprintf(&b, "  baseURL for @ai-sdk/anthropic: %s/v1\n", v.value)
		}
	}
	if b.Len() == 0 {
		return ""
	}
	return "SDKs configured in code (the variables above cover SDKs that read the environment):\n" + b.String()
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

// caBundle checks that path holds a PEM certificate and returns its
// absolute path, which the client's environment needs wherever it runs from.
func caBundle(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("--ca-file: %w", err)
	}
	b, err := os.ReadFile(abs)
	if err != nil {
		return "", fmt.Errorf("--ca-file: %w", err)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(b) {
		return "", fmt.Errorf("--ca-file: %s holds no PEM certificate", path)
	}
	return abs, nil
}
