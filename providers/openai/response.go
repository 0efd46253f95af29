package openai

import (
	"github.com/tokenomics-dev/tokenomics/providers"
)

// ResponseTexts appends to dst a reference to every generated text of a
// non-streamed response, for output rules:
//   - chat: choices[].message content (string or text/refusal parts),
//     refusal, tool call arguments (TextToolArgs) and reasoning_content
//     or reasoning, which some compatible providers return (TextReasoning);
//   - completions: choices[].text;
//   - responses: output message parts (output_text, refusal), function
//     call arguments, custom tool call input and reasoning summaries;
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
// parts (w.gen, Part the content index), function call arguments and
// custom tool input (TextToolArgs, Part -1), reasoning summaries and
// reasoning content (TextReasoning, Part the summary or content index).
func (w *walker) outputItem(idx int) {
	s := &w.s
	if s.Peek() != providers.KindObject {
		s.Skip()
		return
	}
	from := len(w.refs)
	reasoning := false
	obj := s.Object()
	for {
		k, ok := obj.Next()
		if !ok {
			break
		}
		switch string(s.Key(k)) {
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
			// A hosted tool's result (an MCP call's output) goes to the
			// client as well; no deltas build it, so its own Part.
			if v := s.Value(); v.Kind == providers.KindString {
				w.text(v, RoleAssistant, providers.TextToolArgs, idx, hostedOutputPart)
			}
		case "outputs":
			w.toolLogs(idx)
		case "summary":
			w.content(idx, providers.TextReasoning)
		}
	}
	if reasoning {
		for i := from; i < len(w.refs); i++ {
			w.refs[i].Kind = providers.TextReasoning
		}
	}
}

// hostedOutputPart is the Part of a hosted tool call's output texts (an MCP
// call's output, a code interpreter's logs), apart from the -1 of the
// arguments or code that deltas build.
const hostedOutputPart = -2

// toolLogs reads a code interpreter call's outputs: the logs texts.
func (w *walker) toolLogs(idx int) {
	s := &w.s
	if s.Peek() != providers.KindArray {
		s.Skip()
		return
	}
	arr := s.Array()
	for arr.Next() {
		if s.Peek() != providers.KindObject {
			s.Skip()
			continue
		}
		obj := s.Object()
		for {
			k, ok := obj.Next()
			if !ok {
				break
			}
			if v := s.Value(); string(s.Key(k)) == "logs" && v.Kind == providers.KindString {
				w.text(v, RoleAssistant, providers.TextToolArgs, idx, hostedOutputPart)
			}
		}
	}
}
