package fakeupstream

import (
	"bytes"
	"encoding/json"
	"strings"
)

// A forced tool (tool_choice naming it, or requiring a call when it is the
// only tool) is how clients get structured output from a model through a
// tool: LangChain's withStructuredOutput on ChatAnthropic names it, the AI
// SDK's jsonTool mode offers one "json" tool and requires a call. A real
// model then answers with input valid against the tool's schema, so the
// fake does too, building it as structured output does, except that every string
// takes the message itself, as the {"input"} arguments do. A tool the prompt merely mentions keeps the documented
// {"input": "<message>"} arguments.

// addToolSchema remembers a tool's input schema, when it has one.
func (c *call) addToolSchema(name string, schema json.RawMessage) {
	if name == "" || len(schema) == 0 {
		return
	}
	if c.toolSchemas == nil {
		c.toolSchemas = map[string]json.RawMessage{}
	}
	c.toolSchemas[name] = schema
}

// forcedToolArgs returns the arguments for a call to name when tool_choice
// forces that tool and its schema declares properties: an object valid
// against the schema.
func (c *call) forcedToolArgs(name, text string) (string, bool) {
	named := c.choice == choiceNamed && c.choiceName == name
	only := c.choice == choiceRequired && len(c.tools) == 1
	if !named && !only {
		return "", false
	}
	var root map[string]any
	if err := json.Unmarshal(c.toolSchemas[name], &root); err != nil {
		return "", false
	}
	if props, _ := root["properties"].(map[string]any); len(props) == 0 {
		return "", false
	}
	obj, ok := instance(root, root, text, 0).(map[string]any)
	if !ok || len(obj) == 0 {
		return "", false
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // as structured output answers: the echo text verbatim
	if err := enc.Encode(obj); err != nil {
		return "", false
	}
	return strings.TrimSuffix(buf.String(), "\n"), true
}
