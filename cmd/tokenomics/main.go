// Command tokenomics is the LLM gateway: proxy, central server and admin tools.
package main

import (
	"os"

	"github.com/tokenomics-dev/tokenomics/cmd/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
