package fakeupstream

import (
	"fmt"
	"strings"
	"sync"
)

// EchoPrefix starts every ordinary reply.
const EchoPrefix = "Echo: "

// Reply returns the text the fake generates for the given last user message:
// "Echo: " and the message with its [[fake:...]] directives removed and white
// space trimmed, or, with [[fake:long=N]], N filler words (N tokens) instead.
// maxTokens > 0 keeps only the first maxTokens tokens; truncated reports a cut
// (finish_reason "length", stop_reason "max_tokens"). Reasoning tokens
// requested with [[fake:reasoning=N]] use the cap first. Malformed directives
// are ignored here; the server refuses them with 400.
func Reply(userText string, maxTokens int) (text string, truncated bool) {
	d, clean, err := parseDirectives(userText)
	if err != nil {
		d, clean = noDirectives(), strings.TrimSpace(userText)
	}
	return capReply(replyText(clean, d.long), maxTokens, d.reasoning)
}

func replyText(clean string, long int) string {
	if long >= 0 {
		return filler(long)
	}
	return strings.TrimSpace(EchoPrefix + clean)
}

func capReply(text string, maxTokens, reasoning int) (string, bool) {
	if maxTokens <= 0 {
		return text, false
	}
	room := maxTokens - reasoning
	if room <= 0 {
		return "", true
	}
	return cutTokens(text, room)
}

var fillerWords = [...]string{
	"lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit",
	"sed", "do", "eiusmod", "tempor", "incididunt", "ut", "labore", "et",
}

// fillerCache holds the first fillerCached words so that long replies in the
// load benchmark are a slice, not a fresh string.
const fillerCached = 8192

var fillerCache struct {
	once sync.Once
	text string
	ends []int // ends[n] is the byte length of the first n words
}

func filler(n int) string {
	if n == 0 {
		return ""
	}
	fillerCache.once.Do(func() {
		var sb strings.Builder
		fillerCache.ends = make([]int, fillerCached+1)
		for i := range fillerCached {
			if i > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(fillerWords[i%len(fillerWords)])
			fillerCache.ends[i+1] = sb.Len()
		}
		fillerCache.text = sb.String()
	})
	if n <= fillerCached {
		return fillerCache.text[:fillerCache.ends[n]]
	}
	var sb strings.Builder
	sb.Grow(n * 7)
	sb.WriteString(fillerCache.text)
	for i := fillerCached; i < n; i++ {
		sb.WriteByte(' ')
		sb.WriteString(fillerWords[i%len(fillerWords)])
	}
	return sb.String()
}

// Prediction is what the fake will answer to a request, computed without a
// server: tests of other packages use it to know the expected text and usage.
type Prediction struct {
	// Text is the reply text, or the tool call's JSON arguments when ToolName is set.
	Text     string
	ToolName string
	// PromptTokens counts every input text (OpenAI prompt_tokens / input_tokens).
	// Anthropic's input_tokens excludes the cache: PromptTokens - CachedTokens - CacheWriteTokens.
	PromptTokens     int
	CachedTokens     int // [[fake:cached=N]], at most PromptTokens
	CacheWriteTokens int // [[fake:cache_write=N]], Anthropic only
	// CompletionTokens counts Text (for a tool call: the name and the arguments)
	// plus ReasoningTokens.
	CompletionTokens int
	ReasoningTokens  int
	// Truncated reports that the output cap ended the reply.
	Truncated bool
	// Choices is how many choices the answer carries (n); each is Text.
	// CompletionTokens and ReasoningTokens count every generated choice
	// (best_of of them when set).
	Choices int
}

// plan is a Prediction plus the faults to apply while sending it.
type plan struct {
	Prediction
	dir directives
}

func newPlan(c *call, d directives, clean string) plan {
	p := plan{dir: d}
	p.PromptTokens = c.inputTokens
	p.CachedTokens = min(d.cached, p.PromptTokens)
	if c.api == apiMessages {
		p.CacheWriteTokens = min(d.cacheWrite, p.PromptTokens-p.CachedTokens)
	}
	if c.api == apiEmbeddings {
		p.Choices = 1
		return p
	}
	if name := pickTool(c, d); name != "" {
		p.ToolName = name
		args := make([]byte, 0, len(clean)+16)
		args = append(args, `{"input":`...)
		args = appendStr(args, clean)
		p.Text = string(append(args, '}'))
		if forced, ok := c.forcedToolArgs(name, clean); ok {
			p.Text = forced
		}
		p.CompletionTokens = CountTokens(name) + CountTokens(p.Text)
		p.applyChoices(c)
		return p
	}
	p.ReasoningTokens = d.reasoning
	text := replyText(clean, d.long)
	if c.format != nil {
		text = c.format.answer(text)
	}
	p.Text, p.Truncated = capReply(text, effectiveCap(c, d), d.reasoning)
	p.CompletionTokens = CountTokens(p.Text) + d.reasoning
	p.applyChoices(c)
	return p
}

// pickTool decides whether the reply is a tool call: only when the request
// offers tools, the last turn is not already a tool result, and tool_choice,
// a [[fake:tool]] directive or a tool's name in the prompt asks for one.
func pickTool(c *call, d directives) string {
	if len(c.tools) == 0 || c.afterTool || c.choice == choiceNone {
		return ""
	}
	if c.choice == choiceNamed && c.choiceName != "" {
		return c.choiceName
	}
	if d.toolSet && d.tool != "" {
		return d.tool
	}
	for _, name := range c.tools {
		if name != "" && strings.Contains(c.userText, name) {
			return name
		}
	}
	if d.toolSet || c.choice == choiceRequired {
		return c.tools[0]
	}
	return ""
}

// Predict computes the reply and usage the fake returns for a request body
// sent to path ("/v1/chat/completions", "/v1/completions", "/v1/embeddings",
// "/v1/responses" or "/v1/messages"), scripted responses aside.
func Predict(path string, body []byte) (Prediction, error) {
	a, ok := apiForPath(path)
	if !ok {
		return Prediction{}, fmt.Errorf("predicting %q: %w", path, ErrUnknownPath)
	}
	c, err := parseCall(a, body)
	if err != nil {
		return Prediction{}, fmt.Errorf("predicting %q: %w", path, err)
	}
	d, clean, err := parseDirectives(c.userText)
	if err != nil {
		return Prediction{}, fmt.Errorf("predicting %q: %w", path, err)
	}
	return newPlan(c, d, clean).Prediction, nil
}
