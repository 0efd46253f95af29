package cli

// The files `plugin new` writes. {{.Name}} is the plugin name, {{.Module}}
// the Go module path; the go.mod is built in code (see pluginGoMod).

const newPluginMain = `// Command {{.Name}} is a Tokenomics content-rule plugin: it finds the
// configured words in prompts (and answers, with scope output or both), so
// a policy can block them (action fail) or mask them (action mask).
//
// Config (the wasm rule's "config"):
//
//	{"words": ["PROJECT-ORION", "BLUEBIRD"]}
//
// Words match whole, ignoring ASCII case, through the host's keyword
// matcher (native code, not wasm). Build, test, benchmark and sign it with
// make build, make test, make bench and make sign KEY=signing.key.
package main

import (
	"errors"

	"github.com/tokenomics-dev/tokenomics/sdk"
)

func init() { sdk.Register(sdk.Plugin{Configure: configure}) }

func main() {} // a c-shared module is a reactor: main never runs

type config struct {
	Words []string ` + "`json:\"words\"`" + `
}

// configure runs once per distinct rule config; an error refuses the rule
// (the proxy then fails its tokens closed and says why).
func configure(c *sdk.Config) (sdk.Checker, error) {
	var cfg config
	if err := c.Decode(&cfg); err != nil {
		return nil, err
	}
	if len(cfg.Words) == 0 {
		return nil, errors.New("words must list at least one word")
	}
	longest := 0
	for _, w := range cfg.Words {
		if w == "" {
			return nil, errors.New("words holds an empty word")
		}
		longest = max(longest, len(w))
	}
	words, err := sdk.CompileKeywords(cfg.Words, sdk.KeywordOptions{WholeWord: true})
	if err != nil {
		return nil, err
	}
	det := c.Detector("word")
	// The longest match: the proxy holds back this many bytes of a stream,
	// so a word split across two deltas is still found.
	c.SetMaxMatch(longest)

	// Reused across calls: an instance serves one call at a time, and a
	// check that allocates nothing is the fastest one.
	var found []sdk.Match
	return sdk.CheckFunc(func(req *sdk.Request, res *sdk.Result) error {
		for i, t := range req.Texts {
			found = words.Find(t.Data, req.First, found[:0])
			for _, m := range found {
				res.Match(i, m.Start, m.End, det)
			}
			if req.First && res.Len() > 0 {
				return nil // a blocking rule needs one match
			}
		}
		return nil
	}), nil
}
`

const newPluginCases = `# make test  (tokenomics plugin test {{.Name}}.wasm --cases cases.yaml)
# Each case's rule goes through the proxy's policy parser. Format:
# docs/PLUGINS.md, "Test".
cases:
  - name: blocks a listed word
    rule: {action: fail}
    config: {words: [PROJECT-ORION]}
    texts:
      - {role: user, kind: message, data: "Summarize the PROJECT-ORION plan"}
    expect:
      action: block

  - name: masks every listed word, ignoring case
    rule: {action: mask}
    config: {words: [project-orion, BLUEBIRD]}
    texts:
      - {role: user, kind: message, data: "PROJECT-ORION depends on bluebird"}
    expect:
      action: mask
      output: ["[REDACTED:word] depends on [REDACTED:word]"]
      findings:
        - {detector: word, text: 0, start: 0, end: 13}
        - {detector: word, text: 0, start: 25, end: 33}

  - name: whole words only
    rule: {action: fail}
    config: {words: [ORION]}
    texts:
      - {role: user, kind: message, data: "the orionids meteor shower"}
    expect:
      action: allow
      no_findings: true

  - name: a word split across stream deltas is masked
    rule: {action: mask, scope: output}
    config: {words: [PROJECT-ORION]}
    stream: ["It is called PROJECT-OR", "ION and ships in May"]
    expect:
      action: mask
      output: ["It is called [REDACTED:word] and ships in May"]

  - name: refuses an empty word list
    config: {words: []}
    expect:
      configure_error: "at least one word"
`

const newPluginMakefile = `# The {{.Name}} content-rule plugin. TOKENOMICS is the tokenomics binary.
TOKENOMICS ?= tokenomics
NAME       := {{.Name}}
VERSION    ?= 0.1.0
KEY        ?= signing.key
REMOTE     ?=
BENCH_TIME ?= 1s

.PHONY: build test bench sign push clean

# Same flags as the built-in plugins: wasip1, c-shared, trimmed, stripped.
build: $(NAME).wasm
$(NAME).wasm: $(wildcard *.go) go.mod
	$(TOKENOMICS) plugin build . -o $@

test: $(NAME).wasm
	$(TOKENOMICS) plugin test $(NAME).wasm --cases cases.yaml

bench: $(NAME).wasm
	$(TOKENOMICS) plugin test $(NAME).wasm --cases cases.yaml --bench --bench-time $(BENCH_TIME)

sign: $(NAME).wasm
	$(TOKENOMICS) plugin sign $(NAME).wasm --key $(KEY) --name $(NAME) --version $(VERSION)

push: sign
	$(TOKENOMICS) plugin push $(NAME).wasm $(if $(REMOTE),--remote $(REMOTE))

clean:
	rm -f $(NAME).wasm $(NAME).wasm.manifest.json
`

const newPluginReadme = `# {{.Name}}

A Tokenomics content-rule plugin, made by ` + "`tokenomics plugin new {{.Name}}`" + `.

    make test                   # build {{.Name}}.wasm and run cases.yaml
    make bench                  # µs and host allocations per check
    make sign KEY=signing.key VERSION=0.1.0
    make push REMOTE=http://central:9090

A policy uses it with a rule such as

    {"name": "words", "type": "wasm", "plugin": "{{.Name}}@^0.1", "action": "mask",
     "config": {"words": ["PROJECT-ORION"]}}

(or pin the exact build with "plugin": "{{.Name}}", "sha256": "<sha256 from make build>").
The SDK, the ABI and the case format: docs/PLUGINS.md in the Tokenomics repository.
`
