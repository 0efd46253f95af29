package regex

import (
	"errors"

	"github.com/tokenomics-dev/tokenomics/sdk"
	"github.com/tokenomics-dev/tokenomics/sdk/abi"
)

// Configure prepares one rule of this type.
func Configure(c *sdk.Config) (sdk.Checker, error) {
	var cfg struct{ Pattern string }
	err := abi.DecodeFields(c.Raw, func(k, v string) bool {
		if k != "pattern" {
			return false
		}
		cfg.Pattern = v
		return true
	})
	if err != nil {
		return nil, err
	}
	if cfg.Pattern == "" {
		return nil, errors.New("pattern is empty")
	}
	re, err := sdk.CompileRegex(cfg.Pattern)
	if err != nil {
		return nil, err
	}
	det := c.Detector("regex")
	var found []sdk.Match
	return sdk.CheckFunc(func(req *sdk.Request, res *sdk.Result) error {
		// One host call scans every text; with First, at most the first
		// match of each, and the first text with a non-empty one decides.
		found = re.FindIn(req, req.First, found[:0])
		for _, m := range found {
			if m.End > m.Start { // an empty match masks nothing
				res.Match(m.Text, m.Start, m.End, det)
				if req.First {
					return nil
				}
			}
		}
		return nil
	}), nil
}
