// Command fakeupstream serves the fake OpenAI and Anthropic API of package
// test/fakeupstream, for the demo and the load benchmark.
//
//	fakeupstream -addr 127.0.0.1:9999 -openai-key sk-fake -anthropic-key ak-fake
//
// It prints its base URL on stdout (one line, so scripts can read it) and
// serves until SIGINT or SIGTERM. Keys may also come from the environment
// (FAKEUPSTREAM_OPENAI_KEY, FAKEUPSTREAM_ANTHROPIC_KEY); an empty key accepts
// any. Logs go to stderr; -v logs every request at debug level.
package main
