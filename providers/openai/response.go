package openai

import (
	"math"

	"github.com/tokenomics-dev/tokenomics/providers"
)

// ResponseTexts appends to dst a reference to every generated text of a
// non-streamed response, for output rules:
//   - chat: choices[].message content (string or text/refusal parts),
//     refusal, tool call arguments (TextToolArgs), reasoning_content
//     or reasoning, which some compatible providers return (TextReasoning),
//     and annotations (a web search's citations: TextToolArgs);
//   - completions: choices[].text;
//   - responses: output message parts (output_text, refusal) and their
//     annotations (TextToolArgs), function call arguments, custom tool call
//     input, reasoning summaries and the texts of hosted tool items (see
//     outputItem);
//   - embeddings: nothing.
//
// Index is the choice or output item position; Role is "assistant".
func ResponseTexts(dst []providers.TextRef, body []byte, endpoint Endpoint) ([]providers.TextRef, error) {
	if !endpoint.valid() {
		return dst, ErrEndpoint
	}
	w := walker{body: body, refs: dst, collect: true, gen: providers.TextCompletion}
	w.s = providers.NewScanner(body)
	s := &w.s
	if s.Peek() != providers.KindObject {
		s.Skip()
		return w.refs, orType(&w)
	}
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch string(s.Key(k)) {
		case "choices":
			if endpoint == Chat || endpoint == Completions {
				w.choices()
			}
		case "output":
			if endpoint == Responses {
				w.outputItems()
			}
		}
	}
	if err := s.Finish(); err != nil {
		return dst, err
	}
	for i := len(dst); i < len(w.refs); i++ {
		w.refs[i].Role = RoleAssistant
	}
	return w.refs, nil
}

func (w *walker) choices() {
	s := &w.s
	if s.Peek() != providers.KindArray {
		s.Skip()
		return
	}
	arr := s.Array()
	for arr.Next() {
		idx := arr.Index()
		if s.Peek() != providers.KindObject {
			s.Skip()
			continue
		}
		from := len(w.refs)
		obj := s.Object()
		for {
			k, ok := obj.Next()
			if !ok {
				break
			}
			switch string(s.Key(k)) {
			case "message", "delta":
				w.generated(idx)
			case "text":
				if v := s.Value(); v.Kind == providers.KindString {
					w.text(v, RoleAssistant, w.gen, idx, -1)
				}
			case "index":
				// Stream chunks carry one choice whose position in the
				// array says nothing: its index does.
				if n, err := s.Value().Int(w.body); err == nil {
					idx = int(n)
				}
			}
		}
		for i := from; i < len(w.refs); i++ {
			w.refs[i].Index = idx
		}
	}
}

// generated reads a chat message or delta object.
func (w *walker) generated(idx int) {
	s := &w.s
	if s.Peek() != providers.KindObject {
		s.Skip()
		return
	}
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch string(s.Key(k)) {
		case "content":
			w.content(idx, w.gen)
		case "refusal":
			if v := s.Value(); v.Kind == providers.KindString {
				w.text(v, RoleAssistant, w.gen, idx, -1)
			}
		case "reasoning_content", "reasoning":
			if v := s.Value(); v.Kind == providers.KindString {
				w.text(v, RoleAssistant, providers.TextReasoning, idx, -1)
			}
		case "tool_calls":
			w.toolCalls(idx)
		case "function_call":
			w.functionCall(idx, -1)
		case "annotations":
			// An answer's citations (web search: url_citation's url and
			// title). A stream's are whole texts, no running text: each
			// gets a Part of its own for the stream (CitationPart), so no
			// two share a filter and none waits for a later delta.
			from, estimate := len(w.refs), w.estimate
			w.hosted, w.estimate = 0, false // no generated tokens
			w.hostedTree(idx)
			w.estimate = estimate
			if w.gen == providers.TextDelta {
				for i := from; i < len(w.refs); i++ {
					w.refs[i].Part = citationPartBase + w.cites
					w.cites++
				}
			}
		}
	}
}

func (w *walker) outputItems() {
	s := &w.s
	if s.Peek() != providers.KindArray {
		s.Skip()
		return
	}
	arr := s.Array()
	for arr.Next() {
		w.outputItem(arr.Index())
	}
}

// outputItem reads one responses output item at position idx: message
// parts (w.gen, Part the content index), function call arguments, custom
// tool input and code interpreter code (TextToolArgs, Part -1: deltas
// build them), reasoning summaries and reasoning content (TextReasoning,
// Part the summary or content index), and every text of a hosted tool's
// item the client reads (TextToolArgs, see hostedTree): a web search's
// queries, sources and pages, a file search's queries and results, an
// image generation's revised prompt (not its base64 result), shell
// commands and their output, MCP outputs, tool lists and errors, and any
// member of a later item kind that is not an identifier.
func (w *walker) outputItem(idx int) {
	s := &w.s
	if s.Peek() != providers.KindObject {
		s.Skip()
		return
	}
	from := len(w.refs)
	reasoning := false
	w.hosted = 0
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch key := s.Key(k); string(key) {
		case "type":
			reasoning = s.Value().Equal(w.body, "reasoning")
		case "content":
			w.content(idx, w.gen)
		case "arguments", "input", "code":
			// code: a code interpreter call's, built by its code deltas.
			if v := s.Value(); v.Kind == providers.KindString {
				w.text(v, RoleAssistant, providers.TextToolArgs, idx, -1)
			}
		case "output":
			// A hosted tool's result: an MCP call's output (a string), a
			// shell call's stdout and stderr per command.
			w.shellOutput(idx, -1)
		case "summary":
			w.content(idx, providers.TextReasoning)
		default:
			if hostedSkip(key) {
				s.Skip()
				continue
			}
			w.hostedTree(idx)
		}
	}
	if reasoning {
		for i := from; i < len(w.refs); i++ {
			w.refs[i].Kind = providers.TextReasoning
		}
	}
	w.uniqueParts(from)
}

// uniqueParts gives each hosted text appended since from a key of its own:
// an item that repeats a member (two "code"s, two "commands" lists) would
// otherwise have two texts share one stream filter, and the second be
// replaced by what the first became. The first keeps its key (deltas built
// it).
func (w *walker) uniqueParts(from int) {
	refs := w.refs[from:]
	if len(refs) < 2 {
		return
	}
	dup := func(i int) bool {
		for j := range i {
			if refs[j].Kind == refs[i].Kind && refs[j].Part == refs[i].Part {
				return true
			}
		}
		return false
	}
	var seen map[[2]int]bool // for long lists only
	if len(refs) > 32 {
		seen = make(map[[2]int]bool, len(refs))
	}
	for i := range refs {
		if refs[i].Kind != providers.TextToolArgs {
			continue
		}
		k := [2]int{refs[i].Index, refs[i].Part}
		repeated := false
		if seen != nil {
			repeated = seen[k]
		} else {
			repeated = dup(i)
		}
		if repeated {
			refs[i].Part = hostedExtraPart(w.hosted)
			w.hosted++
			k[1] = refs[i].Part
		}
		if seen != nil {
			seen[k] = true
		}
	}
}

// hostedOutputPart is the Part of the first text of an output item that no
// delta builds (an MCP call's output, a code interpreter's logs, a web
// search's query, ...); each further one counts down from it, in the
// order of the item, so output_item.done and response.completed key the
// same text alike and two texts never share a filter.
const hostedOutputPart = -2

// hostedAnnotationBase offsets the texts of a response.output_text.annotation.added
// event away from those of any item walk (see annotationAdded).
const hostedAnnotationBase = 1 << 20

// hostedExtraPart is the Part of the n-th further text of an event that
// keys its first by its own index (a .done event of an unknown kind with
// several strings, a shell output event with several outputs), apart from
// every item walk's and annotation's.
func hostedExtraPart(n int) int { return hostedOutputPart - 2*hostedAnnotationBase - n }

// shellPart is the Part of a shell command's stdout (or stderr), built by
// response.shell_call_output_content deltas of that command_index.
func shellPart(command int, stderr bool) int {
	p := math.MinInt32 + 2*command
	if stderr {
		p++
	}
	return p
}

// hostedSkip reports whether a member of a hosted tool item carries no text
// the client reads as the model's or the tool's words: identifiers, states,
// names the model picked from the tools it was given (masking them would
// break the client's dispatch), padding, and base64 payloads (an image
// generation's result, partial images), which are not text.
func hostedSkip(key []byte) bool {
	switch string(key) {
	case "id", "type", "status", "role", "call_id", "item_id", "name", "server_label",
		"file_id", "container_id", "approval_request_id", "created_by", "encrypted_content",
		"result", "partial_image_b64", "obfuscation", "sequence_number", "output_index",
		"content_index", "command_index", "annotation_index", "summary_index":
		return true
	}
	return false
}

// hostedTree references every string of the value at the scanner that is
// not under a hostedSkip member, each under the next Part below
// hostedOutputPart (w.hosted counts them within the item); a shell call's
// action.commands[i] takes Part i, as its command deltas do. Member names
// are not read: they are the API's own words.
func (w *walker) hostedTree(idx int) {
	s := &w.s
	switch s.Peek() {
	case providers.KindString:
		w.text(s.Value(), RoleAssistant, providers.TextToolArgs, idx, hostedOutputPart-w.hosted)
		w.hosted++
	case providers.KindObject:
		obj := s.Object()
		for {
			k, ok := obj.Next()
			if !ok {
				break
			}
			switch key := s.Key(k); {
			case hostedSkip(key):
				s.Skip()
			case string(key) == "commands" && s.Peek() == providers.KindArray:
				arr := s.Array()
				for arr.Next() {
					if v := s.Value(); v.Kind == providers.KindString {
						w.text(v, RoleAssistant, providers.TextToolArgs, idx, arr.Index())
					}
				}
			default:
				w.hostedTree(idx)
			}
		}
	case providers.KindArray:
		arr := s.Array()
		for arr.Next() {
			w.hostedTree(idx)
		}
	default:
		s.Skip()
	}
}

// shellOutput reads an item's or a shell output event's "output": a
// string (an MCP call's output), or an array of a shell call's outputs
// whose stdout and stderr take shellPart of their command (command >= 0:
// the event's command_index; -1: the position in the array); anything
// else in it is read by hostedTree.
func (w *walker) shellOutput(idx, command int) {
	s := &w.s
	if s.Peek() != providers.KindArray {
		w.hostedTree(idx)
		return
	}
	arr := s.Array()
	for arr.Next() {
		if s.Peek() != providers.KindObject {
			w.hostedTree(idx)
			continue
		}
		switch i := arr.Index(); {
		case command < 0:
			w.shellStreams(idx, i) // an item's outputs, one per command
		case i == 0:
			w.shellStreams(idx, command)
		default:
			// A further output of the same command: its own texts.
			from := len(w.refs)
			w.shellStreams(idx, command)
			for j := from; j < len(w.refs); j++ {
				w.refs[j].Part = hostedExtraPart(w.hosted)
				w.hosted++
			}
		}
	}
}

// shellStreams reads an object with stdout and stderr (a shell output, or
// a shell_call_output_content delta) at the scanner.
func (w *walker) shellStreams(idx, command int) {
	s := &w.s
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch key := s.Key(k); string(key) {
		case "stdout", "stderr":
			if v := s.Value(); v.Kind == providers.KindString {
				w.text(v, RoleAssistant, providers.TextToolArgs, idx, shellPart(command, key[3] == 'e'))
			}
		default:
			if hostedSkip(key) {
				s.Skip()
				continue
			}
			w.hostedTree(idx)
		}
	}
}
