package config

import (
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Auth schemes, wire formats and chat paths of a Provider.
const (
	AuthBearer = "bearer" // Authorization: Bearer <key> (or AuthHeader: Bearer <key>)
	AuthHeader = "header" // <AuthHeader>: <key>
	AuthQuery  = "query"  // ?<AuthQuery>=<key>
	AuthNone   = "none"   // no credentials

	FormatOpenAI    = "openai"
	FormatAnthropic = "anthropic"

	DefaultChatPath   = "/v1/chat/completions"
	AnthropicChatPath = "/v1/messages"

	// GenericProvider is the built-in whose upstream is server.upstream_url.
	GenericProvider = "generic"
)

// Provider is one upstream LLM API, an entry of providers.yaml.
type Provider struct {
	// Name is the key in providers.yaml; policies and cli_maps refer to it.
	Name string `yaml:"-"`
	// UpstreamURL is the API's base URL, without the chat path. The
	// "generic" provider defaults to server.upstream_url.
	UpstreamURL string `yaml:"upstream_url"`
	// APIKeyEnv names the variable holding the provider key.
	APIKeyEnv string `yaml:"api_key_env"`
	// AuthScheme is bearer (default), header, query or none.
	AuthScheme string `yaml:"auth_scheme"`
	// AuthHeader defaults to Authorization for bearer, x-api-key for header.
	AuthHeader string `yaml:"auth_header"`
	// AuthQuery is the query parameter for scheme query. Default "key".
	AuthQuery string `yaml:"auth_query"`
	// Headers are sent with every upstream request.
	Headers map[string]string `yaml:"headers"`
	// ChatPath defaults to /v1/chat/completions.
	ChatPath string `yaml:"chat_path"`
	// Format is the wire format: anthropic by default when ChatPath is
	// /v1/messages, else openai.
	Format string `yaml:"format"`
	// Models served by this provider; policies route by them.
	Models []string `yaml:"models"`
	// Timeout per upstream call in seconds; 0 leaves it to the proxy.
	Timeout int `yaml:"timeout"`
	// Pricing prices models on this provider, by model name, over the
	// file's top-level pricing and the shipped defaults (see ModelPrice).
	Pricing map[string]ModelPrice `yaml:"pricing"`
}

// TimeoutDuration is Timeout as a time.Duration (0 when unset).
func (p Provider) TimeoutDuration() time.Duration { return time.Duration(p.Timeout) * time.Second }

// setDefaults fills unset fields; upstream is server.upstream_url, used by
// the generic provider only.
func (p *Provider) setDefaults(upstream string) {
	if p.Name == GenericProvider && p.UpstreamURL == "" {
		p.UpstreamURL = upstream
	}
	p.AuthScheme = strings.ToLower(p.AuthScheme)
	if p.AuthScheme == "" {
		p.AuthScheme = AuthBearer
	}
	if p.AuthHeader == "" {
		switch p.AuthScheme {
		case AuthBearer:
			p.AuthHeader = "Authorization"
		case AuthHeader:
			p.AuthHeader = "x-api-key"
		}
	}
	if p.AuthQuery == "" && p.AuthScheme == AuthQuery {
		p.AuthQuery = "key"
	}
	if p.ChatPath == "" {
		p.ChatPath = DefaultChatPath
	}
	p.Format = strings.ToLower(p.Format)
	if p.Format == "" {
		p.Format = FormatOpenAI
		if p.ChatPath == AnthropicChatPath {
			p.Format = FormatAnthropic
		}
	}
}

// BuiltinProviders returns a fresh copy of the providers available without
// a providers.yaml: openai, anthropic, groq, mistral and generic (an
// OpenAI-compatible API at server.upstream_url; its UpstreamURL is ""
// here and filled by Config.SetDefaults).
func BuiltinProviders() []Provider {
	ps := []Provider{
		{Name: "openai", UpstreamURL: "https://api.openai.com", APIKeyEnv: "OPENAI_API_KEY"},
		{
			Name: "anthropic", UpstreamURL: "https://api.anthropic.com", APIKeyEnv: "ANTHROPIC_API_KEY",
			AuthScheme: AuthHeader, AuthHeader: "x-api-key",
			Headers:  map[string]string{"anthropic-version": "2023-06-01"},
			ChatPath: AnthropicChatPath, Format: FormatAnthropic,
		},
		{Name: "groq", UpstreamURL: "https://api.groq.com/openai", APIKeyEnv: "GROQ_API_KEY"},
		{Name: "mistral", UpstreamURL: "https://api.mistral.ai", APIKeyEnv: "MISTRAL_API_KEY"},
		{Name: GenericProvider, APIKeyEnv: "OPENAI_API_KEY"},
	}
	for i := range ps {
		ps[i].setDefaults("")
	}
	return ps
}

// mergeProviders puts the file's providers first, in written order, then
// the built-ins the file does not name. A named built-in is replaced whole.
func mergeProviders(file []Provider) []Provider {
	builtins := BuiltinProviders()
	out := make([]Provider, 0, len(file)+len(builtins))
	out = append(out, file...)
	for _, b := range builtins {
		if !hasProvider(file, b.Name) {
			out = append(out, b)
		}
	}
	return out
}

func hasProvider(ps []Provider, name string) bool {
	for i := range ps {
		if ps[i].Name == name {
			return true
		}
	}
	return false
}

// Provider returns the provider called name.
func (c *Config) Provider(name string) (Provider, bool) {
	for _, p := range c.Providers {
		if p.Name == name {
			return p, true
		}
	}
	return Provider{}, false
}

// decodeProviders reads a providers file's root: providers, a mapping from
// name to Provider whose written order is kept, and pricing, a mapping
// from model to ModelPrice.
func (d *decoder) decodeProviders(root *yaml.Node) ([]Provider, map[string]ModelPrice) {
	if root = d.deref(root, ""); root == nil {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode {
		d.fail(root, "", "expected a mapping with the key providers, got %s", kindName(root))
		return nil, nil
	}
	var out []Provider
	var prices map[string]ModelPrice
	for _, top := range d.pairs(root, "") {
		if top.key.Value == "pricing" {
			d.decode(top.value, reflect.ValueOf(&prices).Elem(), "pricing")
			continue
		}
		if top.key.Value != "providers" {
			d.fail(top.key, top.key.Value, "unknown key %q; valid keys: providers, pricing", top.key.Value)
			continue
		}
		m := d.deref(top.value, "providers")
		if m == nil || isNull(m) {
			continue
		}
		if m.Kind != yaml.MappingNode {
			d.fail(m, "providers", "expected a mapping of provider name to settings, got %s", kindName(m))
			continue
		}
		for _, p := range d.pairs(m, "providers") {
			prov := Provider{}
			d.decode(p.value, reflect.ValueOf(&prov).Elem(), "providers."+p.key.Value)
			prov.Name = p.key.Value
			out = append(out, prov)
		}
	}
	return out, prices
}
