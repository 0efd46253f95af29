package main

import (
	"github.com/tokenomics-dev/tokenomics/plugins/keyword"
	"github.com/tokenomics-dev/tokenomics/plugins/pii"
	"github.com/tokenomics-dev/tokenomics/plugins/promptguard"
	"github.com/tokenomics-dev/tokenomics/plugins/regex"
	"github.com/tokenomics-dev/tokenomics/sdk"
)

// The type names are the policy's rule types (core/rules maps the
// original project's "jailbreak" to prompt_guard before it gets here).
func init() {
	sdk.RegisterType("pii", sdk.Plugin{Configure: pii.Configure})
	sdk.RegisterType("regex", sdk.Plugin{Configure: regex.Configure})
	sdk.RegisterType("keyword", sdk.Plugin{Configure: keyword.Configure})
	sdk.RegisterType("prompt_guard", sdk.Plugin{Configure: promptguard.Configure})
}

func main() {}
