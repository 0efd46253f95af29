// The official @anthropic-ai/sdk package, configured only by
// ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY from `tokenomics init`.
// Usage: node anthropic.mjs <op> <model> <prompt>
//   create      messages.create
//   stream      messages.stream, the SDK's accumulating helper
//   stream-raw  messages.create with stream: true, raw events
import Anthropic from '@anthropic-ai/sdk';
import { args, requireEnv, main } from './lib.mjs';

requireEnv('ANTHROPIC_BASE_URL', 'ANTHROPIC_API_KEY');
const { op, model, prompt } = args('anthropic.mjs');
// No retries: a 429 must reach the test as the SDK's error, not be retried.
const client = new Anthropic({ maxRetries: 0, timeout: 30_000 });
const params = { model, max_tokens: 256, messages: [{ role: 'user', content: prompt }] };

const usageOf = (u) => (u ? { input: u.input_tokens, output: u.output_tokens } : null);
const textOf = (content) =>
  content.filter((b) => b.type === 'text').map((b) => b.text).join('');

const ops = {
  async create() {
    const msg = await client.messages.create(params);
    return {
      id: msg.id,
      type: msg.type,
      role: msg.role,
      model: msg.model,
      text: textOf(msg.content),
      finish: msg.stop_reason ?? '',
      usage: usageOf(msg.usage),
    };
  },

  async stream() {
    const stream = client.messages.stream(params);
    let chunks = 0;
    stream.on('text', () => chunks++);
    const msg = await stream.finalMessage();
    return {
      id: msg.id,
      text: textOf(msg.content),
      finish: msg.stop_reason ?? '',
      chunks,
      usage: usageOf(msg.usage),
    };
  },

  async 'stream-raw'() {
    const stream = await client.messages.create({ ...params, stream: true });
    let text = '';
    let chunks = 0;
    let finish = '';
    const usage = { input: 0, output: 0 };
    const events = [];
    for await (const ev of stream) {
      if (events[events.length - 1] !== ev.type) events.push(ev.type);
      switch (ev.type) {
        case 'message_start':
          usage.input = ev.message.usage?.input_tokens ?? 0;
          break;
        case 'content_block_delta':
          if (ev.delta.type === 'text_delta') {
            text += ev.delta.text;
            chunks++;
          }
          break;
        case 'message_delta':
          finish = ev.delta.stop_reason ?? '';
          usage.output = ev.usage?.output_tokens ?? 0;
          break;
      }
    }
    // events lists the event types in order with repeats folded.
    return { text, chunks, finish, usage, events };
  },
};

await main(ops, op, {
  AuthenticationError: Anthropic.AuthenticationError,
  PermissionDeniedError: Anthropic.PermissionDeniedError,
  RateLimitError: Anthropic.RateLimitError,
  BadRequestError: Anthropic.BadRequestError,
  NotFoundError: Anthropic.NotFoundError,
  InternalServerError: Anthropic.InternalServerError,
  APIConnectionError: Anthropic.APIConnectionError,
  APIError: Anthropic.APIError,
}, Anthropic.APIError);
