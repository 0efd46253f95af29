// Cells of the official openai package (Chat Completions, Responses,
// embeddings), configured by OPENAI_BASE_URL / OPENAI_API_KEY.
import OpenAI from 'openai';
import {
  cfg, MODELS, FORBIDDEN, EMBED_MODEL, FAMILIES, cell, check, checkEcho, checkAnswer, answerSchema,
  toolPrompt, toolResult, counter, expectError, retryCell,
} from './common.mjs';

const C = 'openai';
const client = (o = {}) => new OpenAI({ maxRetries: 0, timeout: 30_000, ...o });
const user = (prompt) => [{ role: 'user', content: prompt }];

async function chat({ model, prompt, key, fetch, maxRetries = 0 }) {
  const o = { maxRetries };
  if (key) o.apiKey = key;
  if (fetch) o.fetch = fetch;
  const res = await client(o).chat.completions.create({ model, messages: user(prompt) });
  return res.choices[0].message.content;
}

export function cells() {
  const out = [];
  for (const fam of FAMILIES) {
    const model = MODELS[fam];
    const c = (feature, run, opts) => out.push(cell(C, fam, feature, run, opts));
    c('chat', async () => {
      const p = `openai chat ${fam}`;
      const res = await client().chat.completions.create({ model, messages: user(p) });
      checkEcho(res.choices[0].message.content, p);
      check(res.choices[0].finish_reason === 'stop', `finish ${res.choices[0].finish_reason}`);
      check(res.usage?.prompt_tokens > 0 && res.usage?.completion_tokens > 0, 'no usage');
    });
    c('stream', async () => {
      const p = `openai stream ${fam}`;
      const s = await client().chat.completions.create({ model, messages: user(p), stream: true, stream_options: { include_usage: true } });
      let text = '', chunks = 0, usage = null;
      for await (const ch of s) {
        for (const x of ch.choices) if (x.delta?.content) { text += x.delta.content; chunks++; }
        if (ch.usage) usage = ch.usage;
      }
      checkEcho(text, p);
      check(chunks > 1, 'not streamed');
      check(usage?.completion_tokens > 0, 'no usage chunk');
      // The accumulating helper.
      const runner = client().chat.completions.stream({ model, messages: user(p) });
      let deltas = 0;
      runner.on('content', () => deltas++);
      const fin = await runner.finalChatCompletion();
      checkEcho(fin.choices[0].message.content, p);
      check(deltas > 1, 'helper saw no deltas');
    });
    c('tools', async () => {
      const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { input: { type: 'string' } } } } }];
      const messages = user(toolPrompt(`openai ${fam}`));
      const r1 = await client().chat.completions.create({ model, messages, tools });
      const call = r1.choices[0].message.tool_calls?.[0];
      check(r1.choices[0].finish_reason === 'tool_calls' && call?.function?.name === 'get_weather', `no tool call: ${JSON.stringify(r1.choices[0])}`);
      JSON.parse(call.function.arguments);
      messages.push(r1.choices[0].message, { role: 'tool', tool_call_id: call.id, content: toolResult });
      const r2 = await client().chat.completions.create({ model, messages, tools });
      check(r2.choices[0].finish_reason === 'stop' && r2.choices[0].message.content, `no answer after the tool: ${JSON.stringify(r2.choices[0])}`);
    });
    c('structured output', async () => {
      const res = await client().chat.completions.create({
        model, messages: user(`Reply in JSON (openai ${fam})`),
        response_format: { type: 'json_schema', json_schema: { name: 'answer', strict: true, schema: answerSchema } },
      });
      checkAnswer(JSON.parse(res.choices[0].message.content));
    });
    if (fam === 'gpt') {
      c('embeddings', async () => {
        const res = await client().embeddings.create({ model: EMBED_MODEL, input: ['one', 'two'] });
        check(res.data.length === 2 && res.data[0].embedding.length > 0, 'no vectors');
        check(res.usage?.prompt_tokens > 0, 'no usage');
      });
    }
    c('responses', async () => {
      const p = `openai responses ${fam}`;
      const res = await client().responses.create({ model, input: p });
      checkEcho(res.output_text, p);
      check(res.usage?.output_tokens > 0, 'no usage');
      const s = client().responses.stream({ model, input: p });
      let deltas = 0;
      s.on('response.output_text.delta', () => deltas++);
      const fin = await s.finalResponse();
      checkEcho(fin.output_text, p);
      check(deltas > 1, 'not streamed');
    });
    c('401', () => expectError(() => chat({ model, prompt: 'x', key: cfg.bad }), 401, (e) => e instanceof OpenAI.AuthenticationError));
    c('403', () => expectError(() => chat({ model: FORBIDDEN[fam], prompt: 'x' }), 403, (e) => e instanceof OpenAI.PermissionDeniedError));
    c('413', () => expectError(() => chat({ model, prompt: 'x'.repeat(cfg.big) }), 413, (e) => e instanceof OpenAI.APIError));
    c('429 budget', async () => {
      const n = counter();
      const d = await expectError(() => chat({ model, prompt: 'x', key: cfg.budget, fetch: n.fetch, maxRetries: 2 /* the default */ }), 429,
        (e) => e instanceof OpenAI.RateLimitError);
      check(n.n === 1, `the SDK retried a budget refusal ${n.n - 1} times (x-should-retry: false)`);
      return d;
    });
    out.push(retryCell(C, fam, ({ key, fetch, prompt }) => chat({ model, prompt, key, fetch, maxRetries: 2 })));
  }
  return out;
}
