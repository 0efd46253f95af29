// Command piehelper releases its start pages with startmem, then uses its
// code and its read-only data (type descriptors, interface tables, string
// constants) again; built position-independent by the startmem tests, it
// shows that Release leaves the loader's relocations alone.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/tokenomics-dev/tokenomics/internal/startmem"
)

type answer struct {
	Name  string         `json:"name"`
	Items []int          `json:"items"`
	Attrs map[string]any `json:"attrs"`
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "wait" {
		// The test replaces the binary on disk meanwhile.
		fmt.Println("waiting")
		var line string
		_, _ = fmt.Scanln(&line)
	}
	n, err := startmem.Release()
	if err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(2)
	}
	var sb strings.Builder
	for i := range 3 {
		b, err := json.Marshal(answer{Name: "tokenomics", Items: []int{3, 1, 2, i}, Attrs: map[string]any{"k": 1.5, "s": []string{"x"}}})
		if err != nil {
			fmt.Fprintln(os.Stderr, "marshal:", err)
			os.Exit(3)
		}
		var back answer
		if err := json.Unmarshal(b, &back); err != nil {
			fmt.Fprintln(os.Stderr, "unmarshal:", err)
			os.Exit(3)
		}
		sort.Ints(back.Items)
		fmt.Fprintf(&sb, "%v;", back.Items)
	}
	var e error = os.ErrNotExist
	fmt.Printf("released=%d %s %v\n", n, sb.String(), e)
}
