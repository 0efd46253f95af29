package test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/test/fakeupstream"
)

// The matrix's clients and families, in the compatibility table's order.
var (
	matrixClients  = []string{"openai", "anthropic", "ai-sdk-openai", "ai-sdk-anthropic", "langchain-openai", "langchain-anthropic"}
	matrixFamilies = []string{"gpt", "claude"}
	// Every client runs these features for both families.
	matrixCommon = []string{"chat", "stream", "tools", "structured output", "401", "403", "413", "429 budget", "429 retry"}
	// And these where the client has the feature.
	matrixExtra = map[string][]string{
		"openai":           {"responses", "embeddings"},
		"anthropic":        {"count tokens"},
		"ai-sdk-openai":    {"responses", "embeddings"},
		"ai-sdk-anthropic": {"baseURL from init"},
		"langchain-openai": {"responses", "embeddings"},
	}
)

// matrixRefused are red cells that are the documented behaviour: the
// detail must contain the text given. See docs/COMPATIBILITY.md.
var matrixRefused = map[string]string{}

// matrixWaiting lists cells that depend on work not merged yet, with what
// they wait on. A red waiting cell is logged, not failed, and the table says
// "not yet"; the entry goes when the work lands. Empty: all of issue #16's
// parts are in.
var matrixWaiting = map[string]string{}

const (
	matrixPolicy     = `{"model_regex":"^(gpt-4o|text-embedding-3-small|claude-(sonnet|opus))","max_tokens":10000000}`
	matrixBudget     = `{"model_regex":"^(gpt-4o|text-embedding-3-small|claude-(sonnet|opus))","max_tokens":1}`
	matrixRate       = `{"model_regex":"^(gpt-4o|claude-(sonnet|opus))","max_tokens":10000000,"rate_limit":{"rules":[{"requests":1,"window":"1m"}]}}`
	matrixMaxBody    = 256 << 10
	matrixNodeBudget = 4 * time.Minute
	matrixDoc        = "../docs/COMPATIBILITY.md"
	matrixOut        = "../bin/compat-matrix.md"
)

// matrixCell is one line node matrix.mjs prints.
type matrixCell struct {
	Cell    string `json:"cell"`
	Client  string `json:"client"`
	Family  string `json:"family"`
	Feature string `json:"feature"`
	Result  string `json:"result"`
	Detail  string `json:"detail"`
	MS      int64  `json:"ms"`
}

// TestClientMatrix runs test/clients/matrix.mjs: the openai and
// @anthropic-ai/sdk packages, the Vercel AI SDK with both providers and
// LangChain JS with both chat models, unchanged and configured by
// `tokenomics init`, against the real binary and the fake upstream, for GPT
// and Claude models: chat, streams and their helpers, tool round trips,
// structured output, embeddings, Responses, count_tokens, 401/403/413/429
// surfacing as each SDK's errors, and each SDK's own retry recovering from a
// 1-per-minute limit. Every cell must be green or a documented refusal; the
// results are written to bin/compat-matrix.md as the table
// docs/COMPATIBILITY.md carries (TOKENOMICS_UPDATE_COMPAT=1 rewrites it).
func TestClientMatrix(t *testing.T) {
	t.Parallel()
	node, cdir := clientsDir(t)
	for _, pkg := range []string{"ai", "@ai-sdk/openai", "@ai-sdk/anthropic", "@langchain/openai", "@langchain/anthropic", "zod"} {
		if _, err := os.Stat(filepath.Join(cdir, "node_modules", pkg, "package.json")); err != nil {
			t.Skipf("test/clients/node_modules/%s missing: run (cd test/clients && npm ci)", pkg)
		}
	}
	fake := startFake(t, fakeupstream.Options{})
	port := freePort(t)
	dir := newProxyDir(t, proxySetup{fakeURL: fake.URL(), port: port})
	env := proxyEnv("TOKENOMICS_SERVER_MAX_BODY_BYTES=" + strconv.Itoa(matrixMaxBody))
	tok, _ := createToken(t, dir, env, matrixPolicy)
	budget, _ := createToken(t, dir, env, matrixBudget)
	rate := map[string]string{}
	for _, c := range matrixClients {
		for _, f := range matrixFamilies {
			rate[c+"/"+f], _ = createToken(t, dir, env, matrixRate)
		}
	}
	startServe(t, dir, port, env)

	vars := clientInitEnv(t, dir, env, tok, port)
	res := run(t, dir, env, "init", "--token", tok, "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--insecure")
	require.Equal(t, 0, res.code, res.stderr)
	extra, _ := json.Marshal(map[string]any{
		"bad": "tkn_" + strings.Repeat("Q", 43), "budget": budget, "rate": rate,
		"anthropicV1": initHint(t, res.stderr, "@ai-sdk/anthropic"), "big": matrixMaxBody + 4096,
	})
	vars["MATRIX"] = string(extra)

	// TOKENOMICS_MATRIX_CELLS=regexp runs only the matching cells (while
	// working on them); the completeness and page checks are then skipped.
	only := os.Getenv("TOKENOMICS_MATRIX_CELLS")
	cells := runMatrix(t, node, cdir, vars, only)
	byCell := map[string]matrixCell{}
	for _, c := range cells {
		require.NotContains(t, byCell, c.Cell, "cell printed twice")
		byCell[c.Cell] = c
	}
	for _, cl := range matrixClients {
		if only != "" {
			break
		}
		for _, f := range matrixFamilies {
			for _, feat := range append(append([]string{}, matrixCommon...), matrixExtra[cl]...) {
				if (feat == "embeddings" && f != "gpt") || (feat == "baseURL from init" && f != "claude") {
					continue
				}
				id := cl + "/" + f + "/" + feat
				if _, ok := byCell[id]; !ok {
					t.Errorf("cell %s missing from the matrix", id)
				}
			}
		}
	}
	failed := false
	for _, c := range cells {
		t.Logf("%-5s %6d ms %s: %s", c.Result, c.MS, c.Cell, c.Detail)
		switch {
		case c.Result == "green":
			if why := matrixWaiting[c.Cell]; why != "" {
				t.Logf("%s is green now (it waited on %s)", c.Cell, why)
			}
		case matrixRefused[c.Cell] != "" && strings.Contains(c.Detail, matrixRefused[c.Cell]):
		case matrixWaiting[c.Cell] != "":
			t.Logf("waiting on %s: %s: %s", matrixWaiting[c.Cell], c.Cell, c.Detail)
		default:
			failed = true
			t.Errorf("%s: %s", c.Cell, c.Detail)
		}
	}
	if only != "" {
		return
	}
	table := matrixTable(byCell)
	require.NoError(t, os.MkdirAll(filepath.Dir(matrixOut), 0o755))
	require.NoError(t, os.WriteFile(matrixOut, []byte(table), 0o644))
	if failed || only != "" {
		return
	}
	doc, err := os.ReadFile(matrixDoc)
	require.NoError(t, err)
	updated, ok := spliceMatrix(string(doc), table)
	require.True(t, ok, "%s lacks the <!-- matrix:begin --> / <!-- matrix:end --> markers", matrixDoc)
	if updated != string(doc) {
		if os.Getenv("TOKENOMICS_UPDATE_COMPAT") != "" {
			require.NoError(t, os.WriteFile(matrixDoc, []byte(updated), 0o644))
			return
		}
		t.Errorf("%s is out of date with the matrix (see %s); regenerate it with\n"+
			"  make build && TOKENOMICS_UPDATE_COMPAT=1 TOKENOMICS_BIN=$PWD/bin/tokenomics test/testenv.sh go test -count=1 -run TestClientMatrix ./test/",
			matrixDoc, matrixOut)
	}
}

// initHint finds the base URL `tokenomics init` lists on stderr for sdk.
func initHint(t *testing.T, stderr, sdk string) string {
	t.Helper()
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "baseURL for ") && strings.Contains(line, sdk+":") {
			return strings.TrimSpace(line[strings.LastIndex(line, ": ")+2:])
		}
	}
	t.Fatalf("init lists no base URL for %s:\n%s", sdk, stderr)
	return ""
}

// runMatrix runs node matrix.mjs with exactly vars (plus PATH and a scratch
// HOME) and returns its result lines.
func runMatrix(t *testing.T, node, dir string, vars map[string]string, only string) []matrixCell {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), matrixNodeBudget)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "matrix.mjs")
	if only != "" {
		cmd.Args = append(cmd.Args, only)
	}
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	t.Logf("matrix ran in %s", time.Since(start).Round(time.Second))
	require.NoError(t, err, "node matrix.mjs: stderr:\n%s\nstdout:\n%s", errb.String(), out.String())
	var cells []matrixCell
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if !bytes.HasPrefix(sc.Bytes(), []byte(`{"cell":`)) {
			t.Logf("matrix.mjs printed: %s", sc.Text()) // an SDK's own console output
			continue
		}
		var c matrixCell
		require.NoError(t, json.Unmarshal(sc.Bytes(), &c), "a cell line that does not parse: %q", sc.Text())
		cells = append(cells, c)
	}
	if s := strings.TrimSpace(errb.String()); s != "" {
		t.Logf("matrix.mjs stderr:\n%s", s)
	}
	require.NoError(t, sc.Err())
	return cells
}

// matrixTable renders the results: one table per model family, a row per
// feature, a column per client.
func matrixTable(cells map[string]matrixCell) string {
	var b strings.Builder
	for _, f := range matrixFamilies {
		fmt.Fprintf(&b, "\n### %s models\n\n| feature |", map[string]string{"gpt": "GPT (OpenAI format)", "claude": "Claude (Anthropic format)"}[f])
		for _, c := range matrixClients {
			fmt.Fprintf(&b, " %s |", c)
		}
		b.WriteString("\n|---|")
		for range matrixClients {
			b.WriteString("---|")
		}
		b.WriteByte('\n')
		feats := append([]string{}, matrixCommon[:4]...)
		seen := map[string]bool{}
		for _, cl := range matrixClients {
			for _, x := range matrixExtra[cl] {
				if !seen[x] {
					seen[x] = true
					feats = append(feats, x)
				}
			}
		}
		sort.Strings(feats[4:])
		feats = append(feats, matrixCommon[4:]...)
		for _, feat := range feats {
			row := "| " + feat + " |"
			any := false
			for _, cl := range matrixClients {
				c, ok := cells[cl+"/"+f+"/"+feat]
				mark := "—"
				if ok {
					any = true
					mark = matrixMark(c)
				}
				row += " " + mark + " |"
			}
			if any {
				b.WriteString(row + "\n")
			}
		}
	}
	return b.String()
}

// matrixMark is a cell's entry in the table. A waiting cell reads "not
// yet" even when it passed: until its work lands it may pass by chance
// (a rate window's timing), and the page must not change from run to run.
func matrixMark(c matrixCell) string {
	switch {
	case matrixWaiting[c.Cell] != "":
		return "not yet (" + matrixWaiting[c.Cell] + ")"
	case c.Result == "green":
		return "yes"
	case matrixRefused[c.Cell] != "":
		return "refused: " + matrixRefused[c.Cell]
	}
	return "FAILS"
}

// spliceMatrix puts table between the markers of doc.
func spliceMatrix(doc, table string) (string, bool) {
	const begin, end = "<!-- matrix:begin -->\n", "<!-- matrix:end -->"
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i < 0 || j < i {
		return doc, false
	}
	return doc[:i+len(begin)] + strings.TrimLeft(table, "\n") + "\n" + doc[j:], true
}
