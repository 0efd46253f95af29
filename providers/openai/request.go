package openai

import (
	"bytes"
	"fmt"

	"github.com/tokenomics-dev/tokenomics/providers"
)

// Request is what the gateway needs to know about a request before
// forwarding it.
type Request struct {
	Model  string
	Stream bool
	// HasStreamOptions is true when the client sent a stream_options
	// object; IncludeUsage when it asked for the final usage chunk. A proxy
	// that adds include_usage itself should drop that chunk for clients
	// that did not ask for it.
	HasStreamOptions bool
	IncludeUsage     bool
	// MaxTokens is the output cap: max_completion_tokens or max_tokens
	// (chat; the larger if both), max_tokens (completions) or
	// max_output_tokens (responses). 0 when absent or null.
	MaxTokens int64
	// N is the number of completions generated: n, or best_of for
	// completions when larger. 1 when absent.
	N int64
	// Messages counts what is priced with per-message overhead: chat
	// messages; responses input items, a string input and instructions.
	Messages int
	// PromptEstimate is the offline estimate of prompt tokens, calibrated
	// for OpenAI tokenizers (providers.EstimateTokens): texts, per-message
	// overhead, tool definitions and an allowance per image.
	PromptEstimate int64
	// PromptBound is a guaranteed upper bound of the prompt tokens
	// (providers.BoundRequest): text and tool bytes, message framing, images.
	PromptBound int64
	// Stateful is true for responses requests that continue server-side
	// state (previous_response_id, conversation) whose tokens the estimate
	// cannot see.
	Stateful bool
	// Logprobs is true when the answer will repeat its text token by
	// token (chat logprobs or top_logprobs, completions logprobs,
	// responses top_logprobs or an include entry naming logprobs): a
	// text output rules do not read, so the proxy refuses it to a token
	// that has them.
	Logprobs bool
	// AudioOut is true when a chat answer may be spoken (modalities
	// naming audio, or an audio object): speech, and its transcript,
	// are nothing output rules read.
	AudioOut bool
}

// OutputCap returns the most output tokens the request can produce
// (MaxTokens × N), or 0 when the request sets no cap.
func (r Request) OutputCap() int64 { return r.MaxTokens * max(r.N, 1) }

// topKeys are the top-level names the gateway reads, rewrites or scans on
// any OpenAI endpoint, and the ones whose text reaches the model: each must
// appear once and spelled exactly (see providers.Keys).
var topKeys = providers.NewKeys(
	"model", "stream", "stream_options", "n", "best_of", "messages", "prompt", "suffix", "input",
	"instructions", "max_tokens", "max_completion_tokens", "max_output_tokens", "tools", "functions",
	"tool_choice", "function_call", "response_format", "prediction", "text", "previous_response_id",
	"conversation", "system", "reasoning", "include", "store", "background", "prompt_cache_key",
	"web_search_options", "audio", "modalities", "metadata", "user", "parallel_tool_calls", "stop",
	"safety_identifier", "logprobs", "top_logprobs",
)

// itemKeys are the names read inside messages, content parts, tool calls,
// input items and tool definitions, under the same rule.
var itemKeys = providers.NewKeys(
	"role", "content", "tool_calls", "function_call", "name", "tool_call_id", "refusal", "type", "text",
	"image_url", "input_audio", "file", "function", "arguments", "id", "index", "input", "output",
	"summary", "encrypted_content", "call_id", "description", "parameters", "strict", "json_schema",
	"schema", "include_usage", "status", "annotations", "url", "file_data", "file_id", "filename",
	"action", "queries", "results", "format", "custom", "grammar", "server_label", "server_url",
	"instructions", "prompt", "audio", "data", "title", "detail", "file_url",
)

// ParseRequest reads the fields the gateway acts on and estimates the
// prompt. It validates the whole body as JSON. A field of the wrong type or
// a repeated field it reads is an error (ErrType, ErrDupField).
func ParseRequest(body []byte, endpoint Endpoint) (Request, error) {
	req := Request{N: 1}
	if !endpoint.valid() {
		return req, ErrEndpoint
	}
	w := walker{body: body, estimate: true}
	if err := w.walk(endpoint, &req); err != nil {
		return req, err
	}
	req.Messages = w.messages
	if endpoint == Embeddings {
		req.PromptEstimate = w.tokens
		req.PromptBound = w.bound.Total(0, false)
	} else {
		req.PromptEstimate = providers.EstimateRequest(w.tokens, w.messages)
		req.PromptBound = w.bound.Total(w.messages, true)
	}
	return req, nil
}

// RequestTexts appends to dst a reference to every text of the request
// that content rules must see:
//   - chat: each message's content (a string, or the text and refusal of
//     each part), the arguments of assistant tool calls (and legacy
//     function_call), tool results. System and developer messages have
//     Kind TextSystem.
//   - completions: the prompt (a string or each string of an array) and
//     suffix; token-id prompts have no text.
//   - embeddings: the input string or each string of an input array.
//   - responses: instructions (TextSystem), a string input (TextInput), and
//     for input items the text parts of messages, function call arguments,
//     function and custom tool outputs and custom tool inputs, reasoning
//     summaries and text (TextReasoning; encrypted content is opaque).
//   - every endpoint: tool and format definitions (descriptions, schema
//     strings and member names), the prompt template's strings, stop
//     sequences, user ids and metadata (TextMeta).
//
// Besides prose it references the fields the provider receives (see
// providers.Form): participant, tool, function and file names and schema
// member names (FormName), image and file URLs (FormURL), and base64 text
// documents (FormData, decoded for the rules). Image, PDF and audio data
// are not referenced; a data: URL or file data the rules cannot read fails
// the walk with providers.ErrUncheckable. Refs come in the order of
// providers.OrderRequestRefs: texts, then fields.
func RequestTexts(dst []providers.TextRef, body []byte, endpoint Endpoint) ([]providers.TextRef, error) {
	if !endpoint.valid() {
		return dst, ErrEndpoint
	}
	from := len(dst)
	w := walker{body: body, refs: dst, collect: true, request: true}
	err := w.walk(endpoint, nil)
	return providers.OrderRequestRefs(w.refs, from), err
}

// walker walks a request once, collecting text references, estimating
// tokens, or both.
type walker struct {
	body     []byte
	s        providers.Scanner
	refs     []providers.TextRef
	collect  bool
	request  bool // collecting a request's texts: names, URLs and fields too
	estimate bool
	tokens   int64
	bound    providers.Bound
	messages int
	ntexts   int
	gen      string // kind of generated text: TextCompletion or TextDelta
	hosted   int    // texts of the output item that no delta builds, so far
	cites    int    // citation texts of the stream so far (CitationPart)
}

func (w *walker) text(v providers.Value, role, kind string, index, part int) {
	w.ntexts++
	providers.CountText(&w.s, w.ntexts)
	if w.collect {
		w.refs = append(w.refs, v.Ref(role, kind, index, part))
	}
	if w.estimate {
		w.tokens += providers.EstimateLiteral(v.Raw(w.body))
		w.bound.Text(v.Raw(w.body))
	}
}

func (w *walker) raw(v providers.Value) {
	if w.estimate {
		w.tokens += providers.EstimateTokens(v.Raw(w.body))
		w.bound.Text(v.Raw(w.body))
	}
}

func (w *walker) image() {
	if w.estimate {
		w.tokens += providers.TokensPerImage
		w.bound.Image()
	}
}

func fieldErr(name string, err error) error {
	return fmt.Errorf("reading field %q: %w", name, err)
}

// walk reads the top-level object. req, when not nil, receives the fields.
func (w *walker) walk(ep Endpoint, req *Request) error {
	w.s = providers.NewScanner(w.body)
	s := &w.s
	if s.Peek() != providers.KindObject {
		s.Skip()
		if err := s.Err(); err != nil {
			return err
		}
		return fieldErr("", providers.ErrType)
	}
	var seen uint64
	var maxTokens, maxCompletion int64
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		name := topKeys.Member(s, k, &seen)
		f := fieldOf(ep, name)
		if f == fieldSkip {
			continue // skipped by the next call to Next
		}
		if err := w.read(f, req, &maxTokens, &maxCompletion); err != nil {
			return fieldErr(string(name), err)
		}
	}
	if err := s.Finish(); err != nil {
		return err
	}
	if req != nil {
		req.MaxTokens = max(maxTokens, maxCompletion)
	}
	return nil
}

// field names a top-level field reader. Dispatch goes through a switch,
// not function values, so the walker stays on the stack.
type field uint8

const (
	fieldSkip field = iota
	fieldModel
	fieldStream
	fieldStreamOptions
	fieldN
	fieldTools
	fieldMessages
	fieldMaxTokens
	fieldMaxCompletion
	fieldPrompt
	fieldSuffix
	fieldBestOf
	fieldEmbeddingInput
	fieldResponsesInput
	fieldInstructions
	fieldStateful
	fieldFormat
	fieldPrediction
	fieldPromptTemplate
	fieldToolChoice
	fieldStop
	fieldMeta
	fieldLogprobs
	fieldLogprobsCount
	fieldInclude
	fieldAudioOut
)

// read reads one top-level field's value.
func (w *walker) read(f field, req *Request, maxTokens, maxCompletion *int64) error {
	switch f {
	case fieldModel:
		return readModel(w, req)
	case fieldStream:
		return readStream(w, req)
	case fieldStreamOptions:
		return readStreamOptions(w, req)
	case fieldN, fieldBestOf:
		return readN(w, req)
	case fieldTools:
		return readTools(w)
	case fieldMessages:
		return readMessages(w)
	case fieldMaxTokens:
		return readMax(w, maxTokens)
	case fieldMaxCompletion:
		return readMax(w, maxCompletion)
	case fieldPrompt:
		return readPrompt(w)
	case fieldSuffix:
		return readSuffix(w)
	case fieldEmbeddingInput:
		return readEmbeddingInput(w)
	case fieldResponsesInput:
		return readResponsesInput(w)
	case fieldInstructions:
		return readInstructions(w)
	case fieldStateful:
		return readStateful(w, req)
	case fieldFormat:
		return readFormat(w)
	case fieldPrediction:
		return readPrediction(w)
	case fieldPromptTemplate:
		return readPromptTemplate(w)
	case fieldToolChoice:
		return readToolChoice(w)
	case fieldStop, fieldMeta:
		return readMeta(w)
	case fieldLogprobs, fieldLogprobsCount:
		return readLogprobs(w, req, f == fieldLogprobsCount)
	case fieldInclude:
		return readInclude(w, req)
	case fieldAudioOut:
		return readAudioOut(w, req)
	}
	return nil
}

// fieldOf returns the reader of a top-level field, or fieldSkip.
func fieldOf(ep Endpoint, name []byte) field {
	if ep == Completions && string(name) == "logprobs" {
		return fieldLogprobsCount
	}
	switch string(name) {
	case "model":
		return fieldModel
	case "stream":
		return fieldStream
	case "stream_options":
		return fieldStreamOptions
	case "n":
		return fieldN
	case "tools":
		return fieldTools
	case "user", "safety_identifier", "metadata", "prompt_cache_key", "web_search_options":
		return fieldMeta
	case "logprobs", "top_logprobs":
		return fieldLogprobs
	}
	switch ep {
	case Chat:
		switch string(name) {
		case "messages":
			return fieldMessages
		case "max_tokens":
			return fieldMaxTokens
		case "max_completion_tokens":
			return fieldMaxCompletion
		case "functions":
			return fieldTools
		case "response_format":
			return fieldFormat
		case "prediction":
			return fieldPrediction
		case "tool_choice", "function_call":
			return fieldToolChoice
		case "stop":
			return fieldStop
		case "audio", "modalities":
			return fieldAudioOut
		}
	case Completions:
		switch string(name) {
		case "prompt":
			return fieldPrompt
		case "suffix":
			return fieldSuffix
		case "max_tokens":
			return fieldMaxTokens
		case "best_of":
			return fieldBestOf
		case "stop":
			return fieldStop
		}
	case Embeddings:
		if string(name) == "input" {
			return fieldEmbeddingInput
		}
	case Responses:
		switch string(name) {
		case "input":
			return fieldResponsesInput
		case "instructions":
			return fieldInstructions
		case "max_output_tokens":
			return fieldMaxTokens
		case "previous_response_id", "conversation":
			return fieldStateful
		case "text":
			return fieldFormat
		case "prompt":
			return fieldPromptTemplate
		case "tool_choice":
			return fieldToolChoice
		case "include":
			return fieldInclude
		}
	}
	return fieldSkip
}

func readModel(w *walker, req *Request) error {
	v := w.s.Value()
	if v.Kind != providers.KindString {
		return orType(w)
	}
	if req != nil {
		req.Model = v.String(w.body)
	}
	return nil
}

// orType returns the scanner's error, or ErrType when the value was well
// formed but of the wrong kind.
func orType(w *walker) error {
	if err := w.s.Err(); err != nil {
		return err
	}
	return providers.ErrType
}

func readStream(w *walker, req *Request) error {
	v := w.s.Value()
	if v.IsNull() {
		return nil
	}
	b, err := v.Bool()
	if err != nil {
		return orType(w)
	}
	if req != nil {
		req.Stream = b
	}
	return nil
}

func readStreamOptions(w *walker, req *Request) error {
	s := &w.s
	switch s.Peek() {
	case providers.KindNull:
		s.Skip()
		return nil
	case providers.KindObject:
	default:
		s.Skip()
		return orType(w)
	}
	if req != nil {
		req.HasStreamOptions = true
	}
	var seen uint64
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		if string(itemKeys.Member(s, k, &seen)) != "include_usage" {
			continue
		}
		v := s.Value()
		if v.IsNull() {
			continue
		}
		b, err := v.Bool()
		if err != nil {
			return orType(w)
		}
		if req != nil {
			req.IncludeUsage = b
		}
	}
	return s.Err()
}

// readCount reads a non-negative integer or null (returned as -1).
func readCount(w *walker) (int64, error) {
	v := w.s.Value()
	if v.IsNull() {
		return -1, nil
	}
	n, err := v.Int(w.body)
	if err != nil {
		return 0, orType(w)
	}
	if n < 0 {
		return 0, ErrNegative
	}
	return n, nil
}

func readMax(w *walker, dst *int64) error {
	n, err := readCount(w)
	*dst = max(n, 0)
	return err
}

func readN(w *walker, req *Request) error {
	n, err := readCount(w)
	if err == nil && req != nil && n > req.N {
		req.N = n
	}
	return err
}

// readLogprobs reads logprobs or top_logprobs: null, false and 0 ask for
// nothing; anything else (true, a count, a value of another kind) may
// make the answer carry its tokens. Completions' logprobs: 0 already
// returns the chosen tokens (zero), so there any count asks.
func readLogprobs(w *walker, req *Request, zeroAsks bool) error {
	v := w.s.Value()
	if err := w.s.Err(); err != nil {
		return err
	}
	switch v.Kind {
	case providers.KindNull, providers.KindFalse:
		return nil
	case providers.KindNumber:
		if n, err := v.Int(w.body); err == nil && n == 0 && !zeroAsks {
			return nil
		}
	}
	if req != nil {
		req.Logprobs = true
	}
	return nil
}

// readAudioOut reads a chat request's audio (any value but null asks for
// speech) or modalities (a list naming audio).
func readAudioOut(w *walker, req *Request) error {
	s := &w.s
	if s.Peek() != providers.KindArray {
		v := s.Value()
		if err := s.Err(); err != nil {
			return err
		}
		if !v.IsNull() && v.Kind != providers.KindArray && req != nil {
			req.AudioOut = true
		}
		return nil
	}
	return eachName(w, func(name []byte) {
		if req != nil && !bytes.Equal(name, []byte("text")) {
			req.AudioOut = true
		}
	})
}

// eachName reads the array at the scanner, a list of short strings
// (modalities, include entries), and hands each to f decoded; an entry that
// is not a string is a type error.
func eachName(w *walker, f func(name []byte)) error {
	s := &w.s
	arr := s.Array()
	for arr.Next() {
		v := s.Value()
		if v.Kind != providers.KindString {
			return orType(w)
		}
		var buf [64]byte
		name, err := v.Text(buf[:0], w.body)
		if err != nil {
			return orType(w)
		}
		f(name)
	}
	return s.Err()
}

// readInclude reads a responses include list: an entry naming logprobs
// (message.output_text.logprobs) makes the answer carry its tokens.
func readInclude(w *walker, req *Request) error {
	s := &w.s
	switch s.Peek() {
	case providers.KindNull:
		s.Skip()
		return nil
	case providers.KindArray:
	default:
		s.Skip()
		return orType(w)
	}
	return eachName(w, func(name []byte) {
		if req != nil && bytes.Contains(bytes.ToLower(name), []byte("logprobs")) {
			req.Logprobs = true
		}
	})
}

func readStateful(w *walker, req *Request) error {
	v := w.s.Value()
	if req != nil && !v.IsNull() {
		req.Stateful = true
	}
	return w.s.Err()
}

// readTools reads tool definitions (tools, functions): descriptions and
// the string values of parameter schemas are text the model reads. The
// definitions are priced by their JSON text: providers render them into
// the prompt in a similar or shorter form.
func readTools(w *walker) error {
	w.bound.Tools()
	return w.priced(func() {
		s := &w.s
		if s.Peek() != providers.KindArray {
			s.Skip()
			return
		}
		arr := s.Array()
		for arr.Next() {
			w.toolDef(arr.Index())
		}
	})
}

// readFormat reads response_format (chat) or text (responses): a
// json_schema format carries a description and a schema the model follows.
func readFormat(w *walker) error {
	return w.priced(func() { w.toolDef(-1) })
}

// readPrediction reads a predicted output: its content is fed to the model.
func readPrediction(w *walker) error {
	s := &w.s
	if s.Peek() != providers.KindObject {
		s.Skip()
		return w.s.Err()
	}
	var seen uint64
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		if string(itemKeys.Member(s, k, &seen)) == "content" {
			from := len(w.refs)
			w.content(-1, providers.TextMessage)
			w.setRole(from, RoleAssistant)
		}
	}
	return s.Err()
}

// readPromptTemplate reads a responses prompt template reference: every
// string inside it (variables) is substituted into the prompt.
func readPromptTemplate(w *walker) error {
	return w.priced(func() { w.leaves(RoleUser, providers.TextInput, -1, -1, providers.FormText) })
}

// priced runs read and estimates the tokens of the JSON text it passed
// over, instead of the texts it referenced.
func (w *walker) priced(read func()) error {
	s := &w.s
	start := s.Pos()
	est := w.estimate
	w.estimate = false
	read()
	w.estimate = est
	if err := s.Err(); err != nil {
		return err
	}
	if est {
		w.tokens += providers.EstimateTokens(w.body[start:s.Pos()])
		w.bound.Text(w.body[start:s.Pos()])
	}
	return nil
}

// toolDef reads one tool or format definition, wherever its members sit:
// chat nests them under "function" or "json_schema", the responses API
// puts them at the top, custom tools add a "format".
func (w *walker) toolDef(idx int) {
	s := &w.s
	if s.Peek() != providers.KindObject {
		s.Skip()
		return
	}
	var seen uint64
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch string(itemKeys.Member(s, k, &seen)) {
		case "function", "json_schema", "format", "custom":
			w.toolDef(idx)
		case "description", "title", "grammar", "definition":
			if v := s.Value(); v.Kind == providers.KindString {
				w.text(v, RoleSystem, providers.TextToolDef, -1, idx)
			}
		case "name":
			// the tool's or the format's name, rendered with it
			w.ref(s.Value(), RoleSystem, providers.TextToolDef, -1, idx, providers.FormName)
		case "parameters", "schema", "input_schema":
			w.leaves(RoleSystem, providers.TextToolDef, -1, idx, providers.FormName)
		}
	}
}

// readToolChoice reads tool_choice (and chat's legacy function_call): a
// mode string, or an object naming a tool ({"type":"function","function":
// {"name":...}} in chat, {"type":"function","name":...} in responses, a
// list of allowed tools). Every string in it is checked as a name: the
// provider renders the chosen tool's name into the prompt. Its member
// names are the API's own.
func readToolChoice(w *walker) error {
	w.tree(RoleSystem, providers.TextToolDef, -1, -1, noKeys, providers.FormName, false)
	return w.s.Err()
}

// readMeta reads fields the provider receives without rendering them into
// the prompt: stop sequences (a string or strings), end-user ids (user,
// safety_identifier), metadata (member names and values), the cache key
// and web search options (a user's location). They are
// checked all the same (a provider logs and stores them), not priced.
func readMeta(w *walker) error {
	w.tree(RoleUser, providers.TextMeta, -1, -1, providers.FormText, providers.FormText, false)
	// (stop and user hold no member names; metadata's are the client's)
	return w.s.Err()
}

// leaves references every string value and member name of the next
// value, to any depth the scanner allows: a JSON schema or a template's
// variables reach the model whole, property names included. Names are
// written back in keyForm when masked.
func (w *walker) leaves(r, kind string, idx, part int, keyForm providers.Form) {
	w.tree(r, kind, idx, part, keyForm, providers.FormText, true)
}

// noKeys is the key form of a walk that leaves member names out.
const noKeys providers.Form = 255

// tree is leaves with string values in valForm, priced as prompt text
// when priced is set; member names are left out with keyForm noKeys.
func (w *walker) tree(r, kind string, idx, part int, keyForm, valForm providers.Form, priced bool) {
	s := &w.s
	switch s.Peek() {
	case providers.KindString:
		if priced {
			w.text(s.Value(), r, kind, idx, part)
			if valForm != providers.FormText && w.collect {
				w.refs[len(w.refs)-1].Form = valForm
			}
		} else {
			w.ref(s.Value(), r, kind, idx, part, valForm)
		}
	case providers.KindObject:
		obj := s.Object()
		for {
			k, ok := obj.Next()
			if !ok {
				break
			}
			// A schema's own words (type, properties, ...) carry nothing.
			if keyForm != noKeys && (keyForm != providers.FormName || !providers.IsSchemaKeyword(w.body, k)) {
				w.ref(k, r, kind, idx, part, keyForm)
			}
			if keyForm == providers.FormName && string(s.Key(k)) == "required" {
				// a schema's required list names properties: masked
				// like their names, it still names them
				w.tree(r, kind, idx, part, keyForm, keyForm, priced)
				continue
			}
			w.tree(r, kind, idx, part, keyForm, valForm, priced)
		}
	case providers.KindArray:
		arr := s.Array()
		for arr.Next() {
			w.tree(r, kind, idx, part, keyForm, valForm, priced)
		}
	default:
		s.Skip()
	}
}
