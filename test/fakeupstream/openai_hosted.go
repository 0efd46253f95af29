package fakeupstream

import (
	"encoding/base64"
	"net/url"
)

// The [[fake:hosted]] directive makes a Responses answer carry the reply in
// the items of OpenAI's hosted tools as well, so a test can see whether the
// proxy's output rules read them: a web search (its query and a source
// URL), a file search (its query, a result's file name and text), an image
// generation (its revised prompt; the image itself is base64 bytes, with a
// partial image while streaming), a shell call (its command, streamed in
// deltas) and the shell's output (stdout, streamed in deltas), and a URL
// citation on the message text (its title). The message item comes after
// them. Field names and event order follow OpenAI's Responses API.

// hostedItems is how many output items precede the message.
const hostedItems = 5

// fakePNG is the "image" an image generation call returns: bytes, not text.
var fakePNG = base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\nfake image bytes"))

// messageIndex is the message item's output_index.
func (x *exchange) messageIndex() int {
	if x.p.dir.hosted {
		return hostedItems
	}
	return 0
}

func hostedSourceURL(text string) string {
	return "https://search.example/?q=" + url.QueryEscape(text)
}

// shellCommand is the command the shell call runs.
func shellCommand(text string) string { return "echo " + text }

// appendHostedItem appends the hosted item i finished (done) or just added.
func (x *exchange) appendHostedItem(b []byte, i int, done bool) []byte {
	status := stInProgress
	if done {
		status = stCompleted
	}
	text := x.p.Text
	b = append(b, `{"id":`...)
	switch i {
	case 0:
		b = x.appendID(b, "ws_")
		b = append(b, `,"type":"web_search_call","status":"`...)
		b = append(b, status...)
		b = append(b, '"')
		if done {
			b = append(b, `,"action":{"type":"search","query":`...)
			b = appendStr(b, text)
			b = append(b, `,"sources":[{"type":"url","url":`...)
			b = appendStr(b, hostedSourceURL(text))
			b = append(b, `}]}`...)
		}
	case 1:
		b = x.appendID(b, "fs_")
		b = append(b, `,"type":"file_search_call","status":"`...)
		b = append(b, status...)
		b = append(b, `","queries":`...)
		if !done {
			b = append(b, `[],"results":null`...)
			break
		}
		b = append(b, '[')
		b = appendStr(b, text)
		b = append(b, `],"results":[{"file_id":"file-fake1","filename":`...)
		b = appendStr(b, text+".txt")
		b = append(b, `,"score":0.9,"text":`...)
		b = appendStr(b, text)
		b = append(b, `,"attributes":{}}]`...)
	case 2:
		b = x.appendID(b, "ig_")
		b = append(b, `,"type":"image_generation_call","status":"`...)
		b = append(b, status...)
		b = append(b, '"')
		if done {
			b = append(b, `,"result":`...)
			b = appendStr(b, fakePNG)
			b = append(b, `,"revised_prompt":`...)
			b = appendStr(b, text)
		}
	case 3:
		b = x.appendID(b, "sh_")
		b = append(b, `,"type":"shell_call","call_id":`...)
		b = x.appendID(b, "call_sh_")
		b = append(b, `,"status":"`...)
		b = append(b, status...)
		b = append(b, `","action":{"commands":[`...)
		if done {
			b = appendStr(b, shellCommand(text))
		}
		b = append(b, `],"timeout_ms":10000,"max_output_length":4096}`...)
	case 4:
		b = x.appendID(b, "sho_")
		b = append(b, `,"type":"shell_call_output","call_id":`...)
		b = x.appendID(b, "call_sh_")
		b = append(b, `,"status":"`...)
		b = append(b, status...)
		b = append(b, `","output":[`...)
		if done {
			b = append(b, `{"stdout":`...)
			b = appendStr(b, text+"\n")
			b = append(b, `,"stderr":"","outcome":{"type":"exit","exit_code":0}}`...)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendHostedItems appends the finished hosted items and a comma.
func (x *exchange) appendHostedItems(b []byte) []byte {
	for i := range hostedItems {
		b = x.appendHostedItem(b, i, true)
		b = append(b, ',')
	}
	return b
}

// appendCitation appends a URL citation whose title is the reply.
func appendCitation(b []byte, text string) []byte {
	b = append(b, `{"type":"url_citation","start_index":0,"end_index":`...)
	b = appendInt(b, len(text))
	b = append(b, `,"url":`...)
	b = appendStr(b, hostedSourceURL(text))
	b = append(b, `,"title":`...)
	b = appendStr(b, text)
	return append(b, '}')
}

// appendCitedText is appendOutputText with the citation.
func appendCitedText(b []byte, text string) []byte {
	b = append(b, `{"type":"output_text","annotations":[`...)
	b = appendCitation(b, text)
	b = append(b, `],"logprobs":[],"text":`...)
	b = appendStr(b, text)
	return append(b, '}')
}

// hostedEvents streams the hosted items in OpenAI's order: each item is
// added, reports its progress (with the texts the API streams in deltas),
// and is done.
func (x *exchange) hostedEvents(send func(string, func([]byte) []byte) error) error {
	text := x.p.Text
	for i := range hostedItems {
		idx := func(b []byte) []byte {
			b = append(b, `,"output_index":`...)
			return appendInt(b, i)
		}
		ref := func(prefix string) func([]byte) []byte {
			return func(b []byte) []byte {
				b = append(idx(b), `,"item_id":`...)
				return x.appendID(b, prefix)
			}
		}
		item := func(done bool) func([]byte) []byte {
			return func(b []byte) []byte {
				b = append(idx(b), `,"item":`...)
				return x.appendHostedItem(b, i, done)
			}
		}
		if err := send("response.output_item.added", item(false)); err != nil {
			return err
		}
		var err error
		switch i {
		case 0:
			err = progress(send, "response.web_search_call.", ref("ws_"), "in_progress", "searching", "completed")
		case 1:
			err = progress(send, "response.file_search_call.", ref("fs_"), "in_progress", "searching", "completed")
		case 2:
			err = progress(send, "response.image_generation_call.", ref("ig_"), "in_progress", "generating")
			if err == nil {
				err = send("response.image_generation_call.partial_image", func(b []byte) []byte {
					b = append(ref("ig_")(b), `,"partial_image_index":0,"partial_image_b64":`...)
					return appendStr(b, fakePNG)
				})
			}
			if err == nil {
				err = progress(send, "response.image_generation_call.", ref("ig_"), "completed")
			}
		case 3:
			err = x.shellCommandEvents(send, idx, shellCommand(text))
		case 4:
			err = x.shellOutputEvents(send, ref("sho_"), text+"\n")
		}
		if err != nil {
			return err
		}
		if err := send("response.output_item.done", item(true)); err != nil {
			return err
		}
	}
	return nil
}

// progress sends the text-less progress events of a hosted tool call.
func progress(send func(string, func([]byte) []byte) error, prefix string, ref func([]byte) []byte, states ...string) error {
	for _, st := range states {
		if err := send(prefix+st, ref); err != nil {
			return err
		}
	}
	return nil
}

// shellCommandEvents streams command 0 of a shell call: added (empty),
// one delta per token, done with the whole command.
func (x *exchange) shellCommandEvents(send func(string, func([]byte) []byte) error, idx func([]byte) []byte, command string) error {
	head := func(b []byte) []byte { return append(idx(b), `,"command_index":0`...) }
	if err := send("response.shell_call_command.added", func(b []byte) []byte {
		return append(head(b), `,"command":""`...)
	}); err != nil {
		return err
	}
	for piece := range pieces(command) {
		if err := send("response.shell_call_command.delta", func(b []byte) []byte {
			b = append(head(b), `,"delta":`...)
			return appendStr(b, piece)
		}); err != nil {
			return err
		}
	}
	return send("response.shell_call_command.done", func(b []byte) []byte {
		b = append(head(b), `,"command":`...)
		return appendStr(b, command)
	})
}

// shellOutputEvents streams command 0's stdout: one delta per token, then
// the whole output.
func (x *exchange) shellOutputEvents(send func(string, func([]byte) []byte) error, ref func([]byte) []byte, stdout string) error {
	head := func(b []byte) []byte { return append(ref(b), `,"command_index":0`...) }
	for piece := range pieces(stdout) {
		if err := send("response.shell_call_output_content.delta", func(b []byte) []byte {
			b = append(head(b), `,"delta":{"stdout":`...)
			return append(appendStr(b, piece), '}')
		}); err != nil {
			return err
		}
	}
	return send("response.shell_call_output_content.done", func(b []byte) []byte {
		b = append(head(b), `,"output":[{"stdout":`...)
		b = appendStr(b, stdout)
		return append(b, `,"stderr":"","outcome":{"type":"exit","exit_code":0}}]`...)
	})
}
