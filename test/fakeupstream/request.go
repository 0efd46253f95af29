package fakeupstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidRequest marks a request body the real provider would refuse with 400.
var ErrInvalidRequest = errors.New("fakeupstream: invalid request")

type api uint8

const (
	apiChat api = iota + 1
	apiCompletions
	apiEmbeddings
	apiResponses
	apiMessages
)

type choiceMode uint8

const (
	choiceAuto choiceMode = iota
	choiceNone
	choiceRequired
	choiceNamed
)

// call is what the fake needs from a request, whatever its wire format.
type call struct {
	api          api
	model        string
	stream       bool
	includeUsage bool
	maxTokens    int // 0: no cap
	choices      int // n: choices returned (chat, completions); 0 means 1
	generated    int // choices generated and billed (best_of); 0 means 1
	inputTokens  int
	userText     string // the last user turn: source of directives and of the echo
	tools        []string
	choice       choiceMode
	choiceName   string
	afterTool    bool                       // the last turn is a tool result: answer it, never call again
	toolSchemas  map[string]json.RawMessage // input schema by tool name (tool_args.go)
	format       *outputFormat              // structured output (structured.go)

	// Responses API fields echoed in the response object.
	instructions    *string
	toolsRaw        json.RawMessage
	maxOutputTokens *int

	// Embeddings.
	embeds []embedInput
	dims   int
	base64 bool
}

type embedInput struct {
	key    string // hashed into the vector
	tokens int
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...))
}

// parseCall decodes body for the given API.
func parseCall(a api, body []byte) (*call, error) {
	c := &call{api: a}
	var err error
	switch a {
	case apiChat:
		err = c.parseChat(body)
	case apiCompletions:
		err = c.parseCompletions(body)
	case apiEmbeddings:
		err = c.parseEmbeddings(body)
	case apiResponses:
		err = c.parseResponses(body)
	case apiMessages:
		err = c.parseMessages(body)
	}
	if err != nil {
		return nil, err
	}
	if c.format, err = parseFormat(a, body); err != nil {
		return nil, err
	}
	return c, nil
}

func decodeJSON(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return invalid("decoding JSON body: %v", err)
	}
	return nil
}

func setCap(c *call, name string, v *int) error {
	if v == nil {
		return nil
	}
	if *v < 1 {
		return invalid("%s: must be at least 1, got %d", name, *v)
	}
	c.maxTokens = *v
	return nil
}

// part is one element of a content array in any of the three formats.
type part struct {
	Type    string          `json:"type"`
	Text    string          `json:"text"`
	Name    string          `json:"name"`
	Input   json.RawMessage `json:"input"`   // Anthropic tool_use
	Content json.RawMessage `json:"content"` // Anthropic tool_result
}

// contentText returns the text of a content value (a string, an array of
// parts, or null), texts joined by newlines, and whether every part is a tool
// result.
func contentText(raw json.RawMessage) (text string, onlyToolResults bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] == 'n' {
		return "", false, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false, invalid("decoding content: %v", err)
		}
		return s, false, nil
	}
	var parts []part
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", false, invalid("decoding content parts: %v", err)
	}
	var sb strings.Builder
	onlyToolResults = len(parts) > 0
	for _, p := range parts {
		var t string
		switch p.Type {
		case "tool_use":
			t = p.Name + "\n" + string(p.Input)
		case "tool_result":
			if t, _, err = contentText(p.Content); err != nil {
				return "", false, err
			}
		default:
			t = p.Text
		}
		if p.Type != "tool_result" {
			onlyToolResults = false
		}
		if t == "" {
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte('\n')
		}
		sb.WriteString(t)
	}
	return sb.String(), onlyToolResults, nil
}

// --- OpenAI chat completions ---

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

type chatRequest struct {
	Model               string         `json:"model"`
	Messages            []chatMessage  `json:"messages"`
	Stream              bool           `json:"stream"`
	StreamOptions       *streamOptions `json:"stream_options"`
	MaxTokens           *int           `json:"max_tokens"`
	MaxCompletionTokens *int           `json:"max_completion_tokens"`
	N                   *int           `json:"n"`
	Tools               []struct {
		Function struct {
			Name       string          `json:"name"`
			Parameters json.RawMessage `json:"parameters"`
		} `json:"function"`
	} `json:"tools"`
	ToolChoice json.RawMessage `json:"tool_choice"`
}

type chatMessage struct {
	Role      string          `json:"role"`
	Content   json.RawMessage `json:"content"`
	ToolCalls []struct {
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	} `json:"tool_calls"`
}

func (c *call) parseChat(body []byte) error {
	var req chatRequest
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	if req.Model == "" {
		return invalid("you must provide a model parameter")
	}
	if len(req.Messages) == 0 {
		return invalid("messages: must be a non-empty array")
	}
	if err := c.setStream(req.Stream, req.StreamOptions); err != nil {
		return err
	}
	c.model = req.Model
	if err := setCap(c, "max_tokens", req.MaxTokens); err != nil {
		return err
	}
	if err := setCap(c, "max_completion_tokens", req.MaxCompletionTokens); err != nil {
		return err
	}
	if err := c.setChoices(req.N, nil); err != nil {
		return err
	}
	c.addFraming(len(req.Messages))
	for _, m := range req.Messages {
		text, _, err := contentText(m.Content)
		if err != nil {
			return err
		}
		c.inputTokens += CountTokens(text)
		for _, tc := range m.ToolCalls {
			c.inputTokens += CountTokens(tc.Function.Name) + CountTokens(tc.Function.Arguments)
		}
		if m.Role == "user" || m.Role == "tool" {
			c.userText, c.afterTool = text, m.Role == "tool"
		}
	}
	for _, t := range req.Tools {
		c.tools = append(c.tools, t.Function.Name)
		c.addToolSchema(t.Function.Name, t.Function.Parameters)
	}
	return c.parseOpenAIChoice(req.ToolChoice, true)
}

func (c *call) setStream(stream bool, opts *streamOptions) error {
	if opts != nil && !stream {
		return invalid("the 'stream_options' parameter is only allowed when 'stream' is enabled")
	}
	c.stream = stream
	c.includeUsage = opts != nil && opts.IncludeUsage
	return nil
}

// parseOpenAIChoice reads tool_choice: "none" | "auto" | "required" | an
// object naming a function (nested under "function" in chat, flat in Responses).
func (c *call) parseOpenAIChoice(raw json.RawMessage, nested bool) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] == 'n' {
		return nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return invalid("decoding tool_choice: %v", err)
		}
		switch s {
		case "none":
			c.choice = choiceNone
		case "required":
			c.choice = choiceRequired
		case "auto":
		default:
			return invalid("tool_choice: unknown value %q", s)
		}
		return nil
	}
	var obj struct {
		Name     string `json:"name"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return invalid("decoding tool_choice: %v", err)
	}
	c.choice, c.choiceName = choiceNamed, obj.Name
	if nested {
		c.choiceName = obj.Function.Name
	}
	return nil
}

// --- OpenAI legacy completions ---

func (c *call) parseCompletions(body []byte) error {
	var req struct {
		Model         string          `json:"model"`
		Prompt        json.RawMessage `json:"prompt"`
		Stream        bool            `json:"stream"`
		StreamOptions *streamOptions  `json:"stream_options"`
		MaxTokens     *int            `json:"max_tokens"`
		N             *int            `json:"n"`
		BestOf        *int            `json:"best_of"`
	}
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	if req.Model == "" {
		return invalid("you must provide a model parameter")
	}
	if err := c.setChoices(req.N, req.BestOf); err != nil {
		return err
	}
	if err := c.setStream(req.Stream, req.StreamOptions); err != nil {
		return err
	}
	c.model = req.Model
	c.maxTokens = 16 // the legacy endpoint's documented default
	if err := setCap(c, "max_tokens", req.MaxTokens); err != nil {
		return err
	}
	inputs, err := textOrTokens(req.Prompt, "prompt")
	if err != nil {
		return err
	}
	for _, in := range inputs {
		c.inputTokens += in.tokens
		c.userText = in.text
	}
	return nil
}

type textInput struct {
	text   string
	key    string
	tokens int
}

// textOrTokens decodes the string | []string | []int | [][]int union used by
// prompt and input. Token arrays count one token per element.
func textOrTokens(raw json.RawMessage, field string) ([]textInput, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] == 'n' {
		return nil, invalid("%s: required", field)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []textInput{{text: s, key: s, tokens: CountTokens(s)}}, nil
	}
	var ss []string
	if json.Unmarshal(raw, &ss) == nil {
		out := make([]textInput, len(ss))
		for i, s := range ss {
			out[i] = textInput{text: s, key: s, tokens: CountTokens(s)}
		}
		return out, nil
	}
	var ids []int64
	if json.Unmarshal(raw, &ids) == nil {
		return []textInput{{key: string(raw), tokens: len(ids)}}, nil
	}
	var idss [][]int64
	if err := json.Unmarshal(raw, &idss); err != nil {
		return nil, invalid("%s: must be a string, an array of strings or of token arrays", field)
	}
	out := make([]textInput, len(idss))
	for i, ids := range idss {
		key, _ := json.Marshal(ids)
		out[i] = textInput{key: string(key), tokens: len(ids)}
	}
	return out, nil
}

// --- OpenAI embeddings ---

const maxDims = 4096

func (c *call) parseEmbeddings(body []byte) error {
	var req struct {
		Model          string          `json:"model"`
		Input          json.RawMessage `json:"input"`
		Dimensions     *int            `json:"dimensions"`
		EncodingFormat string          `json:"encoding_format"`
	}
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	if req.Model == "" {
		return invalid("you must provide a model parameter")
	}
	c.model = req.Model
	inputs, err := textOrTokens(req.Input, "input")
	if err != nil {
		return err
	}
	if len(inputs) == 0 {
		return invalid("input: must not be empty")
	}
	for _, in := range inputs {
		c.inputTokens += in.tokens
		c.userText = in.text
		c.embeds = append(c.embeds, embedInput{key: in.key, tokens: in.tokens})
	}
	if req.Dimensions != nil {
		if *req.Dimensions < 1 || *req.Dimensions > maxDims {
			return invalid("dimensions: must be between 1 and %d", maxDims)
		}
		c.dims = *req.Dimensions
	}
	switch req.EncodingFormat {
	case "", "float":
	case "base64":
		c.base64 = true
	default:
		return invalid("encoding_format: must be 'float' or 'base64'")
	}
	return nil
}

// --- OpenAI Responses ---

type responsesItem struct {
	Type      string          `json:"type"`
	Role      string          `json:"role"`
	Content   json.RawMessage `json:"content"`
	Name      string          `json:"name"`
	Arguments string          `json:"arguments"`
	Output    json.RawMessage `json:"output"`
}

func (c *call) parseResponses(body []byte) error {
	var req struct {
		Model           string          `json:"model"`
		Input           json.RawMessage `json:"input"`
		Instructions    *string         `json:"instructions"`
		MaxOutputTokens *int            `json:"max_output_tokens"`
		Stream          bool            `json:"stream"`
		Tools           json.RawMessage `json:"tools"`
		ToolChoice      json.RawMessage `json:"tool_choice"`
	}
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	if req.Model == "" {
		return invalid("model: required")
	}
	c.model, c.stream = req.Model, req.Stream
	c.instructions, c.maxOutputTokens = req.Instructions, req.MaxOutputTokens
	if err := setCap(c, "max_output_tokens", req.MaxOutputTokens); err != nil {
		return err
	}
	if req.Instructions != nil {
		c.inputTokens += CountTokens(*req.Instructions)
	}
	if err := c.parseResponsesInput(req.Input); err != nil {
		return err
	}
	if t := bytes.TrimSpace(req.Tools); len(t) > 0 && t[0] == '[' {
		var tools []struct {
			Name       string          `json:"name"`
			Parameters json.RawMessage `json:"parameters"`
		}
		if err := json.Unmarshal(t, &tools); err != nil {
			return invalid("decoding tools: %v", err)
		}
		for _, tool := range tools {
			if tool.Name != "" {
				c.tools = append(c.tools, tool.Name)
				c.addToolSchema(tool.Name, tool.Parameters)
			}
		}
		c.toolsRaw = t
	}
	return c.parseOpenAIChoice(req.ToolChoice, false)
}

func (c *call) parseResponsesInput(raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] == 'n' {
		return invalid("input: required")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return invalid("decoding input: %v", err)
		}
		c.inputTokens += CountTokens(s)
		c.userText = s
		c.addFraming(1)
		return nil
	}
	var items []responsesItem
	if err := json.Unmarshal(raw, &items); err != nil {
		return invalid("decoding input items: %v", err)
	}
	c.addFraming(len(items))
	for _, it := range items {
		switch it.Type {
		case "function_call":
			c.inputTokens += CountTokens(it.Name) + CountTokens(it.Arguments)
		case "function_call_output":
			text, _, err := contentText(it.Output)
			if err != nil {
				return err
			}
			c.inputTokens += CountTokens(text)
			c.userText, c.afterTool = text, true
		case "", "message":
			text, _, err := contentText(it.Content)
			if err != nil {
				return err
			}
			c.inputTokens += CountTokens(text)
			if it.Role == "user" {
				c.userText, c.afterTool = text, false
			}
		}
	}
	return nil
}

// --- Anthropic messages ---

func (c *call) parseMessages(body []byte) error {
	var req struct {
		Model     string `json:"model"`
		MaxTokens *int   `json:"max_tokens"`
		Messages  []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
		System json.RawMessage `json:"system"`
		Stream bool            `json:"stream"`
		Tools  []struct {
			Name        string          `json:"name"`
			InputSchema json.RawMessage `json:"input_schema"`
		} `json:"tools"`
		ToolChoice *struct {
			Type string `json:"type"`
			Name string `json:"name"`
		} `json:"tool_choice"`
	}
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	switch {
	case req.Model == "":
		return invalid("model: Field required")
	case req.MaxTokens == nil:
		return invalid("max_tokens: Field required")
	case len(req.Messages) == 0:
		return invalid("messages: Field required")
	}
	c.model, c.stream = req.Model, req.Stream
	if err := setCap(c, "max_tokens", req.MaxTokens); err != nil {
		return err
	}
	sys, _, err := contentText(req.System)
	if err != nil {
		return err
	}
	c.inputTokens += CountTokens(sys)
	c.addFraming(len(req.Messages))
	for _, m := range req.Messages {
		text, toolResults, err := contentText(m.Content)
		if err != nil {
			return err
		}
		c.inputTokens += CountTokens(text)
		if m.Role == "user" {
			c.userText, c.afterTool = text, toolResults
		}
	}
	for _, t := range req.Tools {
		c.tools = append(c.tools, t.Name)
		c.addToolSchema(t.Name, t.InputSchema)
	}
	if tc := req.ToolChoice; tc != nil {
		switch tc.Type {
		case "none":
			c.choice = choiceNone
		case "any":
			c.choice = choiceRequired
		case "tool":
			c.choice, c.choiceName = choiceNamed, tc.Name
		}
	}
	return nil
}
