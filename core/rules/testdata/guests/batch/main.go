// Command batch is a test guest served as the built-in module: its
// "keyword" rule type behaves by the rule's first keyword (mask, replace,
// block, error, panic, exit, badspan), so one policy can mix working and
// failing rules that the host checks in one guest call.
package main

import (
	"errors"
	"os"

	"github.com/tokenomics-dev/tokenomics/sdk"
	"github.com/tokenomics-dev/tokenomics/sdk/abi"
)

func init() { sdk.RegisterType("keyword", sdk.Plugin{Configure: configure}) }

func main() {}

func configure(c *sdk.Config) (sdk.Checker, error) {
	mode := ""
	if err := abi.DecodeFields(c.Raw, func(k, v string) bool {
		if k == "keyword" && mode == "" {
			mode = v
		}
		return true
	}); err != nil {
		return nil, err
	}
	det := c.Detector("batch")
	kw, err := sdk.CompileKeywords([]string{"secret"}, sdk.KeywordOptions{WholeWord: true})
	if err != nil {
		return nil, err
	}
	var found []sdk.Match
	return sdk.CheckFunc(func(req *sdk.Request, res *sdk.Result) error {
		switch mode {
		case "mask", "replace":
			for i, t := range req.Texts {
				found = kw.Find(t.Data, false, found[:0])
				for _, m := range found {
					if mode == "mask" {
						res.Match(i, m.Start, m.End, det)
					} else {
						res.Replace(i, m.Start, m.End, det, []byte("***"))
					}
				}
			}
		case "block":
			res.Block("custom reason")
		case "error":
			return errors.New("boom")
		case "panic":
			panic("boom")
		case "exit":
			os.Exit(3)
		case "badspan":
			res.Match(0, 0, 1<<20, det)
		}
		return nil
	}), nil
}
