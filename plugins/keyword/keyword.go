package keyword

import (
	"errors"

	"github.com/tokenomics-dev/tokenomics/sdk"
	"github.com/tokenomics-dev/tokenomics/sdk/abi"
)

type config struct {
	Keywords      []string
	CaseSensitive bool
}

// Configure prepares one rule of this type.
func Configure(c *sdk.Config) (sdk.Checker, error) {
	var cfg config
	err := abi.DecodeFields(c.Raw, func(k, v string) bool {
		switch k {
		case "keyword":
			cfg.Keywords = append(cfg.Keywords, v)
		case "case_sensitive":
			cfg.CaseSensitive = v == "true"
		default:
			return false
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if len(cfg.Keywords) == 0 {
		return nil, errors.New("keywords is empty")
	}
	for _, k := range cfg.Keywords {
		if k == "" {
			return nil, errors.New("keywords holds an empty keyword")
		}
	}
	kw, err := sdk.CompileKeywords(cfg.Keywords, sdk.KeywordOptions{
		CaseSensitive: cfg.CaseSensitive,
		WholeWord:     true,
	})
	if err != nil {
		return nil, err
	}
	det := c.Detector("keyword")
	var found []sdk.Match
	return sdk.CheckFunc(func(req *sdk.Request, res *sdk.Result) error {
		// One host call scans every text; with First, at most the first
		// occurrence of each, and the first text with one decides.
		found = kw.FindIn(req, req.First, found[:0])
		for _, m := range found {
			res.Match(m.Text, m.Start, m.End, det)
			if req.First {
				return nil
			}
		}
		return nil
	}), nil
}
