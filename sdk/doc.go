// Package sdk is the guest-side Go SDK for Tokenomics content-rule plugins.
// It uses the standard library only and is compiled with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o plugin.wasm .
//
// A plugin is a main package that registers itself from init (main stays
// empty: a c-shared module is a reactor, its main never runs):
//
//	func init() {
//		sdk.Register(sdk.Plugin{Configure: configure})
//	}
//
//	func configure(c *sdk.Config) (sdk.Checker, error) {
//		var cfg struct{ Words []string `json:"words"` }
//		if err := c.Decode(&cfg); err != nil {
//			return nil, err
//		}
//		kw, err := sdk.CompileKeywords(cfg.Words, sdk.KeywordOptions{WholeWord: true})
//		if err != nil {
//			return nil, err
//		}
//		det := c.Detector("word")
//		var found []sdk.Match
//		return sdk.CheckFunc(func(req *sdk.Request, res *sdk.Result) error {
//			for i, t := range req.Texts {
//				found = kw.Find(t.Data, req.First, found[:0])
//				for _, m := range found {
//					res.Match(i, m.Start, m.End, det)
//				}
//			}
//			return nil
//		}), nil
//	}
//
//	func main() {}
//
// The host passes texts already extracted from the request (no JSON to parse
// on the hot path) and applies the rule's action to the matches the plugin
// reports: mask them, block, or record findings. Heavy scanning belongs in
// the host primitives ([CompileRegex], [CompileKeywords]), which run natively.
//
// Outside wasip1 the package compiles (so tools and tests can use its types)
// but the host primitives return [ErrNoHost].
package sdk
