package openai_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenomics-dev/tokenomics/providers"
	"github.com/tokenomics-dev/tokenomics/providers/openai"
)

// doneText is what a test expects of one ref: its key and decoded text.
type doneText struct {
	Kind        string
	Index, Part int
	Text        string
}

func TestDoneTexts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, data string
		want       []doneText
	}{
		{"output text done", `{"type":"response.output_text.done","sequence_number":9,"item_id":"m","output_index":1,"content_index":0,"text":"a \"b\"","logprobs":[]}`,
			[]doneText{{providers.TextDelta, 1, 0, `a "b"`}}},
		{"type after the text", `{"text":"t","content_index":2,"output_index":0,"type":"response.output_text.done"}`,
			[]doneText{{providers.TextDelta, 0, 2, "t"}}},
		{"refusal done", `{"type":"response.refusal.done","output_index":0,"content_index":1,"refusal":"no"}`,
			[]doneText{{providers.TextDelta, 0, 1, "no"}}},
		{"arguments done", `{"type":"response.function_call_arguments.done","output_index":2,"arguments":"{\"a\":1}"}`,
			[]doneText{{providers.TextToolArgs, 2, -1, `{"a":1}`}}},
		{"custom tool input done", `{"type":"response.custom_tool_call_input.done","output_index":0,"input":"x"}`,
			[]doneText{{providers.TextToolArgs, 0, -1, "x"}}},
		{"summary done", `{"type":"response.reasoning_summary_text.done","output_index":0,"summary_index":3,"text":"s"}`,
			[]doneText{{providers.TextReasoning, 0, 3, "s"}}},
		{"reasoning text done", `{"type":"response.reasoning_text.done","output_index":0,"content_index":1,"text":"r"}`,
			[]doneText{{providers.TextReasoning, 0, 1, "r"}}},
		{"content part done", `{"type":"response.content_part.done","output_index":0,"content_index":0,"part":{"type":"output_text","annotations":[],"text":"p"}}`,
			[]doneText{{providers.TextDelta, 0, 0, "p"}}},
		{"refusal part done", `{"type":"response.content_part.done","output_index":1,"content_index":0,"part":{"type":"refusal","refusal":"no"}}`,
			[]doneText{{providers.TextDelta, 1, 0, "no"}}},
		{"reasoning part done", `{"part":{"text":"r","type":"reasoning_text"},"type":"response.content_part.done","output_index":0,"content_index":0}`,
			[]doneText{{providers.TextReasoning, 0, 0, "r"}}},
		{"summary part done", `{"type":"response.reasoning_summary_part.done","output_index":0,"summary_index":1,"part":{"type":"summary_text","text":"s"}}`,
			[]doneText{{providers.TextReasoning, 0, 1, "s"}}},
		{"message item done", `{"type":"response.output_item.done","output_index":1,"item":{"type":"message","role":"assistant","content":[{"type":"output_text","text":"a"},{"type":"refusal","refusal":"b"}]}}`,
			[]doneText{{providers.TextDelta, 1, 0, "a"}, {providers.TextDelta, 1, 1, "b"}}},
		{"call item done", `{"type":"response.output_item.done","output_index":0,"item":{"type":"function_call","arguments":"{}","name":"f"}}`,
			[]doneText{{providers.TextToolArgs, 0, -1, "{}"}}},
		{"reasoning item done", `{"type":"response.output_item.done","output_index":0,"item":{"type":"reasoning","summary":[{"type":"summary_text","text":"s"}]}}`,
			[]doneText{{providers.TextReasoning, 0, 0, "s"}}},
		{"completed", `{"type":"response.completed","response":{"id":"r","instructions":"not generated","output":[{"type":"reasoning","summary":[]},{"type":"message","content":[{"type":"output_text","text":"a"}]},{"type":"function_call","arguments":"{}"}],"usage":{"input_tokens":1}}}`,
			[]doneText{{providers.TextDelta, 1, 0, "a"}, {providers.TextToolArgs, 2, -1, "{}"}}},
		{"incomplete", `{"type":"response.incomplete","response":{"output":[{"type":"message","content":[{"type":"output_text","text":"a"}]}]}}`,
			[]doneText{{providers.TextDelta, 0, 0, "a"}}},
		{"code interpreter code done", `{"type":"response.code_interpreter_call_code.done","output_index":0,"item_id":"ci","code":"print(1)"}`,
			[]doneText{{providers.TextToolArgs, 0, -1, "print(1)"}}},
		{"mcp arguments done", `{"type":"response.mcp_call_arguments.done","output_index":1,"arguments":"{}"}`,
			[]doneText{{providers.TextToolArgs, 1, -1, "{}"}}},
		{"transcript done", `{"type":"response.output_audio_transcript.done","output_index":2,"content_index":0,"transcript":"hi"}`,
			[]doneText{{providers.TextDelta, 2, 0, "hi"}}},
		{"code interpreter item done", `{"type":"response.output_item.done","output_index":0,"item":{"type":"code_interpreter_call","code":"c","outputs":[{"type":"logs","logs":"l"},{"type":"image","url":"u"}]}}`,
			[]doneText{{providers.TextToolArgs, 0, -1, "c"}, {providers.TextToolArgs, 0, -2, "l"}, {providers.TextToolArgs, 0, -3, "u"}}},
		{"web search item done", `{"type":"response.output_item.done","output_index":0,"item":{"id":"ws_1","type":"web_search_call","status":"completed","action":{"type":"search","query":"q1","queries":["q2"],"sources":[{"type":"url","url":"https://a/1"}]}}}`,
			[]doneText{{providers.TextToolArgs, 0, -2, "q1"}, {providers.TextToolArgs, 0, -3, "q2"}, {providers.TextToolArgs, 0, -4, "https://a/1"}}},
		{"web search open page added", `{"type":"response.output_item.added","output_index":0,"item":{"id":"ws_1","type":"web_search_call","status":"in_progress","action":{"type":"find","url":"https://a/2","pattern":"p"}}}`,
			[]doneText{{providers.TextToolArgs, 0, -2, "https://a/2"}, {providers.TextToolArgs, 0, -3, "p"}}},
		{"file search item done", `{"type":"response.output_item.done","output_index":1,"item":{"id":"fs_1","type":"file_search_call","status":"completed","queries":["q"],"results":[{"file_id":"file-1","filename":"f.txt","score":0.5,"text":"t","attributes":{"k":"v","n":1}}]}}`,
			[]doneText{{providers.TextToolArgs, 1, -2, "q"}, {providers.TextToolArgs, 1, -3, "f.txt"}, {providers.TextToolArgs, 1, -4, "t"}, {providers.TextToolArgs, 1, -5, "v"}}},
		{"image generation item done: revised prompt, not the image", `{"type":"response.output_item.done","output_index":0,"item":{"id":"ig_1","type":"image_generation_call","status":"completed","result":"iVBORw0KGgo=","revised_prompt":"rp","output_format":"png"}}`,
			[]doneText{{providers.TextToolArgs, 0, -2, "rp"}, {providers.TextToolArgs, 0, -3, "png"}}},
		{"an event of another kind: its strings", `{"type":"response.some_tool.progress","sequence_number":3,"output_index":1,"item_id":"x","note":"n1","detail":"n2","delta":"d"}`,
			[]doneText{{providers.TextToolArgs, 1, math.MinInt64/4 + 3*64, "n1"}, {providers.TextToolArgs, 1, math.MinInt64/4 + 3*64 + 1, "n2"}}},
		{"audio bytes are not read", `{"type":"response.audio.delta","sequence_number":3,"output_index":1,"delta":"UklGRg=="}`, nil},
		{"an error event: its strings (a provider may quote the request)", `{"type":"error","sequence_number":3,"code":"c","message":"m"}`,
			[]doneText{{providers.TextToolArgs, -1, math.MinInt64/4 + 3*64, "c"}, {providers.TextToolArgs, -1, math.MinInt64/4 + 3*64 + 1, "m"}}},
		{"partial image is not text", `{"type":"response.image_generation_call.partial_image","output_index":0,"item_id":"ig_1","partial_image_index":0,"partial_image_b64":"iVBORw0KGgo="}`, nil},
		{"mcp list tools item", `{"type":"response.output_item.done","output_index":0,"item":{"id":"ml_1","type":"mcp_list_tools","server_label":"crm","tools":[{"name":"lookup","description":"d","input_schema":{"type":"object","properties":{"q":{"type":"string","description":"qd"}}}}]}}`,
			[]doneText{{providers.TextToolArgs, 0, -2, "d"}, {providers.TextToolArgs, 0, -3, "qd"}}},
		{"mcp call error", `{"type":"response.output_item.done","output_index":1,"item":{"type":"mcp_call","name":"n","arguments":"{}","error":"e"}}`,
			[]doneText{{providers.TextToolArgs, 1, -1, "{}"}, {providers.TextToolArgs, 1, -2, "e"}}},
		{"shell call item", `{"type":"response.output_item.done","output_index":0,"item":{"id":"sh_1","type":"shell_call","call_id":"c","status":"completed","action":{"commands":["ls","pwd"],"timeout_ms":100}}}`,
			[]doneText{{providers.TextToolArgs, 0, 0, "ls"}, {providers.TextToolArgs, 0, 1, "pwd"}}},
		{"shell output item", `{"type":"response.output_item.done","output_index":1,"item":{"id":"so_1","type":"shell_call_output","call_id":"c","output":[{"stdout":"o0","stderr":"e0","outcome":{"type":"exit","exit_code":0}},{"stdout":"o1","stderr":"","outcome":{"type":"timeout"}}]}}`,
			[]doneText{{providers.TextToolArgs, 1, math.MinInt32, "o0"}, {providers.TextToolArgs, 1, math.MinInt32 + 1, "e0"}, {providers.TextToolArgs, 1, math.MinInt32 + 2, "o1"}, {providers.TextToolArgs, 1, math.MinInt32 + 3, ""}}},
		{"shell command added", `{"type":"response.shell_call_command.added","output_index":0,"command_index":1,"command":"ls"}`,
			[]doneText{{providers.TextToolArgs, 0, 1, "ls"}}},
		{"shell command done", `{"type":"response.shell_call_command.done","output_index":0,"command_index":1,"command":"ls -la"}`,
			[]doneText{{providers.TextToolArgs, 0, 1, "ls -la"}}},
		{"shell output done", `{"type":"response.shell_call_output_content.done","output_index":1,"item_id":"so","command_index":1,"output":[{"stdout":"42","stderr":"w","outcome":{"type":"exit","exit_code":0}}]}`,
			[]doneText{{providers.TextToolArgs, 1, math.MinInt32 + 2, "42"}, {providers.TextToolArgs, 1, math.MinInt32 + 3, "w"}}},
		{"unknown hosted done reads its strings", `{"type":"response.apply_patch_call_operation_diff.done","output_index":2,"item_id":"ap","obfuscation":"xx","diff":"+x","path":"p"}`,
			[]doneText{{providers.TextToolArgs, 2, -1, "+x"}, {providers.TextToolArgs, 2, -3 - 2<<20, "p"}}},
		{"annotation added", `{"type":"response.output_text.annotation.added","output_index":0,"content_index":0,"annotation_index":1,"item_id":"m","annotation":{"type":"url_citation","url":"https://a","title":"T","start_index":1,"end_index":2}}`,
			[]doneText{{providers.TextToolArgs, 0, -2 - (1<<20 + 1<<4), "https://a"}, {providers.TextToolArgs, 0, -3 - (1<<20 + 1<<4), "T"}}},
		{"message annotations", `{"type":"response.output_item.done","output_index":0,"item":{"type":"message","content":[{"type":"output_text","text":"a","annotations":[{"type":"url_citation","url":"https://a","title":"T"}]},{"type":"output_text","text":"b","annotations":[{"type":"file_citation","file_id":"f","filename":"n.txt"}]}]}}`,
			[]doneText{{providers.TextToolArgs, 0, -2 - 1<<12, "https://a"}, {providers.TextToolArgs, 0, -3 - 1<<12, "T"}, {providers.TextDelta, 0, 0, "a"}, {providers.TextToolArgs, 0, -2 - 2<<12, "n.txt"}, {providers.TextDelta, 0, 1, "b"}}},
		{"mcp item done", `{"type":"response.output_item.done","output_index":1,"item":{"type":"mcp_call","name":"n","arguments":"{}","output":"o"}}`,
			[]doneText{{providers.TextToolArgs, 1, -1, "{}"}, {providers.TextToolArgs, 1, -2, "o"}}},
		{"audio bytes done is not text", `{"type":"response.output_audio.done","output_index":0,"content_index":0}`, nil},
		{"a delta is not done", `{"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":"d"}`, nil},
		{"message item added is empty", `{"type":"response.output_item.added","output_index":0,"item":{"type":"message","content":[]}}`, nil},
		{"created carries no output", `{"type":"response.created","response":{"output":[]}}`, nil},
		{"text of the wrong type", `{"type":"response.output_text.done","text":7}`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(tc.data)
			refs, err := openai.DoneTexts(nil, data)
			require.NoError(t, err)
			var got []doneText
			for _, r := range refs {
				assert.Equal(t, openai.RoleAssistant, r.Role)
				txt, err := providers.DecodeText(nil, data, r)
				require.NoError(t, err)
				got = append(got, doneText{r.Kind, r.Index, r.Part, string(txt)})
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestDoneTextsMalformed(t *testing.T) {
	t.Parallel()
	for _, data := range []string{`{"type":"response.output_text.done","text":"a"`, `[1]`, `{"type":"response.completed","response":{"output":[{]}}`} {
		refs, err := openai.DoneTexts(nil, []byte(data))
		assert.Error(t, err, data)
		assert.Empty(t, refs, data)
	}
}

// FuzzDoneTexts checks that done events never panic the reader and that
// every ref lies inside the event and decodes.
func FuzzDoneTexts(f *testing.F) {
	f.Add([]byte(`{"type":"response.output_text.done","output_index":0,"content_index":0,"text":"a\nb"}`))
	f.Add([]byte(`{"type":"response.output_item.done","output_index":0,"item":{"type":"message","content":[{"type":"output_text","text":"a"}]}}`))
	f.Add([]byte(`{"type":"response.completed","response":{"output":[{"type":"function_call","arguments":"{}"}]}}`))
	f.Add([]byte(`{"type":"response.content_part.done","part":{"type":"reasoning_text","text":"r"}}`))
	f.Add([]byte(`{"type":"response.output_item.done","output_index":0,"item":{"type":"web_search_call","action":{"type":"search","query":"q","queries":["a","b"],"sources":[{"type":"url","url":"u"}]}}}`))
	f.Add([]byte(`{"type":"response.shell_call_output_content.done","output_index":1,"command_index":0,"output":[{"stdout":"a","stderr":"b"},{"stdout":"c"}]}`))
	f.Add([]byte(`{"type":"response.some_tool.done","output_index":1,"a":"x","b":"y"}`))
	f.Add([]byte(`{"type":"response.output_text.annotation.added","output_index":0,"content_index":1,"annotation_index":2,"annotation":{"url":"u","title":"t"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		refs, err := openai.DoneTexts(nil, data)
		if err != nil {
			return
		}
		// Two hosted texts of one event never share a stream filter.
		type key struct{ index, part int }
		seen := map[key]bool{}
		for _, r := range refs {
			_, err := providers.DecodeText(nil, data, r)
			require.NoError(t, err)
			if r.Kind == providers.TextToolArgs {
				k := key{r.Index, r.Part}
				require.False(t, seen[k], "two texts keyed %v in %s", k, data)
				seen[k] = true
			}
		}
	})
}

// TestDoneTextsErrors: an error event's message (and its other strings
// but identifiers) and response.failed's error message are texts the
// client reads, each keyed apart.
func TestDoneTextsErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		data string
		want []string
	}{
		{`{"type":"error","code":"bad_value","message":"Bad 'x'","param":null,"sequence_number":3}`, []string{"bad_value", "Bad 'x'"}},
		{`{"type":"response.failed","sequence_number":9,"response":{"id":"r","status":"failed","error":{"code":"server_error","message":"Failed on 'y'"},"output":[{"type":"message","id":"m","content":[{"type":"output_text","text":"Par"}]}]}}`, []string{"Par", "Failed on 'y'"}},
		{`{"type":"response.failed","response":{"id":"r","status":"failed","error":null,"output":[]}}`, nil},
	}
	for _, c := range cases {
		refs, err := openai.DoneTexts(nil, []byte(c.data))
		require.NoError(t, err, c.data)
		var got []string
		parts := map[[2]int]bool{}
		for _, r := range refs {
			b, err := providers.DecodeText(nil, []byte(c.data), r)
			require.NoError(t, err)
			got = append(got, string(b))
			key := [2]int{r.Index, r.Part}
			assert.False(t, parts[key], "key shared: %v", key)
			parts[key] = true
		}
		assert.Equal(t, c.want, got, c.data)
	}
}
