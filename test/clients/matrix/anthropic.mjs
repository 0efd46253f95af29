// Cells of the official @anthropic-ai/sdk package (Messages, streams,
// count_tokens), configured by ANTHROPIC_BASE_URL / ANTHROPIC_API_KEY.
import Anthropic from '@anthropic-ai/sdk';
import {
  cfg, MODELS, FORBIDDEN, FAMILIES, cell, check, checkEcho, checkAnswer, answerSchema,
  toolPrompt, toolResult, counter, expectError, retryCell,
} from './common.mjs';

const C = 'anthropic';
const client = (o = {}) => new Anthropic({ maxRetries: 0, timeout: 30_000, ...o });
const user = (prompt) => [{ role: 'user', content: prompt }];
const textOf = (msg) => msg.content.filter((b) => b.type === 'text').map((b) => b.text).join('');

async function create({ model, prompt, key, fetch, maxRetries = 0 }) {
  const o = { maxRetries };
  if (key) o.apiKey = key;
  if (fetch) o.fetch = fetch;
  return textOf(await client(o).messages.create({ model, max_tokens: 256, messages: user(prompt) }));
}

export function cells() {
  const out = [];
  for (const fam of ['claude', ...FAMILIES.filter((f) => f !== 'claude')]) {
    const model = MODELS[fam];
    const c = (feature, run, opts) => out.push(cell(C, fam, feature, run, opts));
    c('chat', async () => {
      const p = `anthropic chat ${fam}`;
      const msg = await client().messages.create({ model, max_tokens: 256, messages: user(p) });
      checkEcho(textOf(msg), p);
      check(msg.stop_reason === 'end_turn', `stop ${msg.stop_reason}`);
      check(msg.usage?.input_tokens > 0 && msg.usage?.output_tokens > 0, 'no usage');
    });
    c('stream', async () => {
      const p = `anthropic stream ${fam}`;
      const s = client().messages.stream({ model, max_tokens: 256, messages: user(p) });
      let deltas = 0;
      s.on('text', () => deltas++);
      const msg = await s.finalMessage();
      checkEcho(textOf(msg), p);
      check(deltas > 1, 'not streamed');
      check(msg.usage?.output_tokens > 0, 'no usage');
    });
    c('tools', async () => {
      const tools = [{ name: 'get_weather', input_schema: { type: 'object', properties: { input: { type: 'string' } } } }];
      const messages = user(toolPrompt(`anthropic ${fam}`));
      const m1 = await client().messages.create({ model, max_tokens: 256, messages, tools });
      const use = m1.content.find((b) => b.type === 'tool_use');
      check(m1.stop_reason === 'tool_use' && use?.name === 'get_weather', `no tool call: ${JSON.stringify(m1.content)}`);
      messages.push({ role: 'assistant', content: m1.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: toolResult }] });
      const m2 = await client().messages.create({ model, max_tokens: 256, messages, tools });
      check(m2.stop_reason === 'end_turn' && textOf(m2), `no answer after the tool: ${JSON.stringify(m2.content)}`);
    });
    c('structured output', async () => {
      const msg = await client().messages.create({
        model, max_tokens: 256, messages: user(`Reply in JSON (anthropic ${fam})`),
        output_config: { format: { type: 'json_schema', schema: answerSchema } },
      });
      checkAnswer(JSON.parse(textOf(msg)));
    });
    c('count tokens', async () => {
      const p = `anthropic count ${fam}`;
      const res = await client().messages.countTokens({ model, messages: user(p) });
      check(Number.isInteger(res.input_tokens) && res.input_tokens > 0, `count ${JSON.stringify(res)}`);
      // The count agrees with what the call then reports.
      const msg = await client().messages.create({ model, max_tokens: 64, messages: user(p) });
      if (fam === 'claude') check(res.input_tokens === msg.usage.input_tokens, `counted ${res.input_tokens}, used ${msg.usage.input_tokens}`);
      else check(res.input_tokens >= msg.usage.input_tokens, `estimate ${res.input_tokens} below the ${msg.usage.input_tokens} used`);
      return `${res.input_tokens} tokens`;
    });
    c('401', () => expectError(() => create({ model, prompt: 'x', key: cfg.bad }), 401, (e) => e instanceof Anthropic.AuthenticationError));
    c('403', () => expectError(() => create({ model: FORBIDDEN[fam], prompt: 'x' }), 403, (e) => e instanceof Anthropic.PermissionDeniedError));
    c('413', () => expectError(() => create({ model, prompt: 'x'.repeat(cfg.big) }), 413, (e) => e instanceof Anthropic.APIError));
    c('429 budget', async () => {
      const n = counter();
      const d = await expectError(() => create({ model, prompt: 'x', key: cfg.budget, fetch: n.fetch, maxRetries: 2 }), 429,
        (e) => e instanceof Anthropic.RateLimitError);
      check(n.n === 1, `the SDK retried a budget refusal ${n.n - 1} times (x-should-retry: false)`);
      return d;
    });
    out.push(retryCell(C, fam, ({ key, fetch, prompt }) => create({ model, prompt, key, fetch, maxRetries: 2 })));
  }
  return out;
}
