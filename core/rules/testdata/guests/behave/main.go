// Command behave is a test guest for the sandbox tests. Its config picks a
// behaviour: ok, loop, grow, probe (tries files, environment, args, clock),
// error, panic, exit, replace, block, badspan.
package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/tokenomics-dev/tokenomics/sdk"
)

func init() { sdk.Register(sdk.Plugin{Configure: configure}) }

func main() {}

var (
	sink  [][]byte
	spins uint64
)

func configure(c *sdk.Config) (sdk.Checker, error) {
	var cfg struct {
		Mode string `json:"mode"`
	}
	if err := c.Decode(&cfg); err != nil {
		return nil, err
	}
	det := c.Detector("behave")
	kw, err := sdk.CompileKeywords([]string{"secret"}, sdk.KeywordOptions{WholeWord: true})
	if err != nil {
		return nil, err
	}
	var found []sdk.Match
	switch cfg.Mode {
	case "ok", "loop", "grow", "probe", "error", "panic", "exit", "replace", "block", "badspan":
	case "badconfig":
		return nil, errors.New("this config is refused")
	default:
		return nil, fmt.Errorf("unknown mode %q", cfg.Mode)
	}
	return sdk.CheckFunc(func(req *sdk.Request, res *sdk.Result) error {
		switch cfg.Mode {
		case "loop":
			for {
				spins++
			}
		case "grow":
			for {
				sink = append(sink, make([]byte, 1<<20))
			}
		case "probe":
			_, ferr := os.ReadFile("/etc/passwd")
			_, derr := os.ReadDir("/")
			res.Block(fmt.Sprintf("file=%v dir=%v env=%d args=%d time=%d",
				ferr != nil, derr != nil, len(os.Environ()), len(os.Args), time.Now().Year()))
		case "error":
			return errors.New("boom")
		case "panic":
			panic("boom")
		case "exit":
			os.Exit(3)
		case "replace":
			for i, t := range req.Texts {
				found = kw.Find(t.Data, false, found[:0])
				for _, m := range found {
					res.Replace(i, m.Start, m.End, det, []byte("***"))
				}
			}
		case "block":
			res.Block("custom reason")
		case "badspan":
			res.Match(0, 0, 1<<20, det)
		}
		return nil
	}), nil
}
