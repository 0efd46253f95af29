package test

import (
	"testing"
)

// TestAttackW3_TranslateLeaks: with the contractor rules (PII mask), a
// secret placed where the rules walkers do not look still reaches the
// provider: member names the model reads (tool input keys, schema property
// names), tool names, image URLs (the provider fetches them), stop
// sequences and end-user ids. Both translated (Messages to GPT, Responses
// and Chat to Claude) and native paths. Every subtest must see the secret
// masked or the request refused; these fail today.
func TestAttackW3_TranslateLeaks(t *testing.T) {
	t.Parallel()
	e := startBypass(t)
	const chat, resp, msgs = "/v1/chat/completions", "/v1/responses", "/v1/messages"
	leak := func(name, path, body string, leaks ...string) bypassCase {
		return bypassCase{name: name, path: path, body: body, leaks: leaks}
	}
	cases := []bypassCase{
		leak("messages tool_use input key to gpt", msgs, `{"model":"gpt-4o","max_tokens":20,"messages":[{"role":"user","content":"MARKER"},`+
			`{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{"`+email+`":"x"}}]},`+
			`{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"ok"}]}]}`, email),
		leak("messages tool schema property name to gpt", msgs, `{"model":"gpt-4o","max_tokens":20,"messages":[{"role":"user","content":"MARKER"}],`+
			`"tools":[{"name":"f","description":"d","input_schema":{"type":"object","properties":{"`+email+`":{"type":"string"}}}}]}`, email),
		leak("responses schema property name to claude", resp, `{"model":"claude-sonnet-4-6","input":"MARKER","text":{"format":{"type":"json_schema","name":"n","schema":{"type":"object","properties":{"`+email+`":{"type":"string"}}}}}}`, email),
		leak("messages tool_use input key native", msgs, `{"model":"claude-sonnet-4-6","max_tokens":20,"messages":[{"role":"user","content":"MARKER"},`+
			`{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{"`+email+`":"x"}}]},`+
			`{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"ok"}]}]}`, email),
		leak("chat tool schema property name native", chat, `{"model":"gpt-4o","messages":[{"role":"user","content":"MARKER"}],`+
			`"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"`+email+`":{"type":"string"}}}}}]}`, email),
		leak("chat image_url native", chat, `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"MARKER"},`+
			`{"type":"image_url","image_url":{"url":"https://img.example.net/a.png?owner=`+email+`"}}]}]}`, email),
		leak("messages image url to gpt", msgs, `{"model":"gpt-4o","max_tokens":20,"messages":[{"role":"user","content":[{"type":"text","text":"MARKER"},`+
			`{"type":"image","source":{"type":"url","url":"https://img.example.net/a.png?owner=`+email+`"}}]}]}`, email),
		leak("responses input_image url to claude", resp, `{"model":"claude-sonnet-4-6","input":[{"role":"user","content":[{"type":"input_text","text":"MARKER"},`+
			`{"type":"input_image","image_url":"https://img.example.net/a.png?owner=`+email+`"}]}]}`, email),
		leak("chat image_url to claude", chat, `{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":[{"type":"text","text":"MARKER"},`+
			`{"type":"image_url","image_url":{"url":"https://img.example.net/a.png?owner=`+email+`"}}]}]}`, email),
		leak("messages metadata user_id to gpt", msgs, `{"model":"gpt-4o","max_tokens":20,"metadata":{"user_id":"`+email+`"},"messages":[{"role":"user","content":"MARKER"}]}`, email),
		leak("responses user to claude", resp, `{"model":"claude-sonnet-4-6","user":"`+email+`","input":"MARKER"}`, email),
		leak("chat stop sequence to claude", chat, `{"model":"claude-sonnet-4-6","stop":["`+email+`"],"messages":[{"role":"user","content":"MARKER"}]}`, email),
		leak("messages stop sequence to gpt", msgs, `{"model":"gpt-4o","max_tokens":20,"stop_sequences":["`+email+`"],"messages":[{"role":"user","content":"MARKER"}]}`, email),
		leak("messages tool name to gpt", msgs, `{"model":"gpt-4o","max_tokens":20,"messages":[{"role":"user","content":"MARKER"}],`+
			`"tools":[{"name":"`+ssn+`","description":"d","input_schema":{"type":"object"}}]}`, ssn),
		leak("chat tool_choice name to claude", chat, `{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"MARKER"}],"tools":[{"type":"function","function":{"name":"`+ssn+`","parameters":{"type":"object"}}}],"tool_choice":{"type":"function","function":{"name":"`+ssn+`"}}}`, ssn),
		// A text/plain file part: its name and its base64 content (the SSN) reach the model unread.
		leak("chat text file part native", chat, `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"MARKER"},{"type":"file","file":{"filename":"`+email+`.txt","file_data":"data:text/plain;base64,MTIzLTQ1LTY3ODk="}}]}]}`, email, "MTIzLTQ1LTY3ODk="),
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e.run(t, tc)
		})
	}
}

// TestAttackW3_TranslateSound: corners of the translated formats that the
// rules do cover (regression guard): duplicate and case-variant members
// are refused, nested schema keywords, tool outputs, developer messages.
func TestAttackW3_TranslateSound(t *testing.T) {
	t.Parallel()
	e := startBypass(t)
	const chat, resp, msgs = "/v1/chat/completions", "/v1/responses", "/v1/messages"
	leak := func(name, path, body string, leaks ...string) bypassCase {
		return bypassCase{name: name, path: path, body: body, leaks: leaks}
	}
	refuse := func(name, path, body string, _ ...string) bypassCase {
		return bypassCase{name: name, path: path, body: body, refuse: 400, code: "ambiguous_field"}
	}
	cases := []bypassCase{
		leak("responses function_call arguments key to claude", resp, `{"model":"claude-sonnet-4-6","input":[{"role":"user","content":"MARKER"},`+
			`{"type":"function_call","call_id":"c1","name":"f","arguments":"{\"`+email+`\":1}"},{"type":"function_call_output","call_id":"c1","output":"ok"}]}`, email),
		leak("chat tool_calls arguments key to claude", chat, `{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"MARKER"},`+
			`{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"`+email+`\":1}"}}]},`+
			`{"role":"tool","tool_call_id":"c1","content":"ok"}]}`, email),
		leak("responses schema default/examples/const/title to claude", resp, `{"model":"claude-sonnet-4-6","input":"MARKER","text":{"format":{"type":"json_schema","name":"n","schema":{"type":"object","title":"`+email+`","properties":{"a":{"type":"string","default":"`+ssn+`","examples":["`+ssn+`"],"const":"`+ssn+`"}}}}}}`, ssn, email),
		leak("messages tool schema default to gpt", msgs, `{"model":"gpt-4o","max_tokens":20,"messages":[{"role":"user","content":"MARKER"}],`+
			`"tools":[{"name":"f","description":"d","input_schema":{"type":"object","properties":{"a":{"type":"string","default":"`+ssn+`","title":"`+email+`"}}}}]}`, ssn, email),
		leak("chat message name to claude", chat, `{"model":"claude-sonnet-4-6","messages":[{"role":"user","name":"`+email+`","content":"MARKER"}]}`, email),
		leak("responses schema name to claude", resp, `{"model":"claude-sonnet-4-6","input":"MARKER","text":{"format":{"type":"json_schema","name":"`+ssn+`","schema":{"type":"object"}}}}`, ssn),
		refuse("messages duplicate system to gpt", msgs, `{"model":"gpt-4o","max_tokens":20,"system":"ok","system":"ssn `+ssn+`","messages":[{"role":"user","content":"MARKER"}]}`, ssn),
		refuse("responses duplicate instructions to claude", resp, `{"model":"claude-sonnet-4-6","instructions":"ok","instructions":"ssn `+ssn+`","input":"MARKER"}`, ssn),
		refuse("responses case-variant Instructions to claude", resp, `{"model":"claude-sonnet-4-6","Instructions":"ssn `+ssn+`","input":"MARKER"}`, ssn),
		refuse("messages case-variant System to gpt", msgs, `{"model":"gpt-4o","max_tokens":20,"System":"ssn `+ssn+`","messages":[{"role":"user","content":"MARKER"}]}`, ssn),
		leak("responses developer message to claude", resp, `{"model":"claude-sonnet-4-6","input":[{"role":"developer","content":"ssn `+ssn+`"},{"role":"user","content":"MARKER"}]}`, ssn),
		leak("responses message item type to claude", resp, `{"model":"claude-sonnet-4-6","input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"MARKER ssn `+ssn+`"}]}]}`, ssn),
		leak("responses output_text assistant to claude", resp, `{"model":"claude-sonnet-4-6","input":[{"role":"user","content":"MARKER"},{"type":"message","role":"assistant","content":[{"type":"output_text","text":"ssn `+ssn+`"}]},{"role":"user","content":"go on"}]}`, ssn),
		leak("messages tool_result nested text to gpt", msgs, `{"model":"gpt-4o","max_tokens":20,"messages":[{"role":"user","content":"MARKER"},`+
			`{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{}}]},`+
			`{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","is_error":true,"content":"ssn `+ssn+`"}]}]}`, ssn),
		leak("chat tool message parts to claude", chat, `{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"MARKER"},`+
			`{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},`+
			`{"role":"tool","tool_call_id":"c1","content":[{"type":"text","text":"ssn `+ssn+`"}]}]}`, ssn),
		leak("chat function tool description nested to claude", chat, `{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"MARKER"}],`+
			`"tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object","properties":{"a":{"type":"object","properties":{"b":{"type":"string","description":"`+email+`"}}}}}}}]}`, email),
		leak("chat json_schema description to claude", chat, `{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"MARKER"}],"response_format":{"type":"json_schema","json_schema":{"name":"n","description":"`+email+`","schema":{"type":"object"}}}}`, email),
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e.run(t, tc)
		})
	}
}
