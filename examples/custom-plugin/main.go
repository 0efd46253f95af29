// Command custom-plugin is an example content-rule plugin: it finds
// internal project code names ("PROJECT-ORION") in prompts and answers, so
// a policy can block them (action fail) or mask them (action mask) before
// they leave the company.
//
// Config (the wasm rule's "config"):
//
//	{"codenames": ["PROJECT-ORION", "BLUEBIRD"], "any_project_code": true}
//
// codenames are matched as whole words, ignoring ASCII case, by the host's
// keyword matcher. any_project_code also matches every PROJECT-<NAME> code
// (three or more capital letters), by the host's regex engine. At least one
// of the two must be set. Build, test and sign it with:
//
//	tokenomics plugin build ./examples/custom-plugin -o orion.wasm
//	tokenomics plugin test orion.wasm --cases ./examples/custom-plugin/cases.yaml
//	tokenomics plugin sign orion.wasm --key signing.key --name orion-guard --version 1.0.0
package main

import (
	"errors"

	"github.com/tokenomics-dev/tokenomics/sdk"
)

func init() { sdk.Register(sdk.Plugin{Configure: configure}) }

func main() {} // a c-shared module is a reactor: main never runs

type config struct {
	Codenames      []string `json:"codenames"`
	AnyProjectCode bool     `json:"any_project_code"`
}

// projectCode is the generic form of a code name; the longest match it can
// produce bounds the stream hold-back below.
const (
	projectCode    = `\bPROJECT-[A-Z]{3,24}\b`
	projectCodeMax = len("PROJECT-") + 24
)

func configure(c *sdk.Config) (sdk.Checker, error) {
	var cfg config
	if err := c.Decode(&cfg); err != nil {
		return nil, err
	}
	if len(cfg.Codenames) == 0 && !cfg.AnyProjectCode {
		return nil, errors.New("set codenames, any_project_code, or both")
	}
	longest := 0
	var names *sdk.Keywords
	if len(cfg.Codenames) > 0 {
		for _, n := range cfg.Codenames {
			if n == "" {
				return nil, errors.New("codenames holds an empty name")
			}
			longest = max(longest, len(n))
		}
		var err error
		names, err = sdk.CompileKeywords(cfg.Codenames, sdk.KeywordOptions{WholeWord: true})
		if err != nil {
			return nil, err
		}
	}
	var codes *sdk.Regex
	if cfg.AnyProjectCode {
		var err error
		if codes, err = sdk.CompileRegex(projectCode); err != nil {
			return nil, err
		}
		longest = max(longest, projectCodeMax)
	}
	det := c.Detector("codename")
	c.SetMaxMatch(longest) // a name split across stream chunks is still caught

	// Reused across calls: an instance serves one call at a time.
	var found []sdk.Match
	return sdk.CheckFunc(func(req *sdk.Request, res *sdk.Result) error {
		for i, t := range req.Texts {
			if names != nil {
				found = names.Find(t.Data, req.First, found[:0])
				for _, m := range found {
					res.Match(i, m.Start, m.End, det)
				}
			}
			if req.First && res.Len() > 0 {
				return nil // a blocking rule needs one match
			}
			if codes != nil {
				found = codes.Find(t.Data, req.First, found[:0])
				for _, m := range found {
					res.Match(i, m.Start, m.End, det)
				}
			}
			if req.First && res.Len() > 0 {
				return nil
			}
		}
		return nil
	}), nil
}
