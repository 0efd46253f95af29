// The official openai package, configured only by OPENAI_BASE_URL and
// OPENAI_API_KEY from `tokenomics init`. Usage: node openai.mjs <op> <model> <prompt>
//   chat           chat.completions.create
//   stream         chat.completions.create with stream and include_usage
//   stream-helper  chat.completions.stream, the SDK's accumulating helper
import OpenAI from 'openai';
import { args, requireEnv, main } from './lib.mjs';

requireEnv('OPENAI_BASE_URL', 'OPENAI_API_KEY');
const { op, model, prompt } = args('openai.mjs');
// No retries: a 429 must reach the test as the SDK's error, not be retried.
const client = new OpenAI({ maxRetries: 0, timeout: 30_000 });
const messages = [{ role: 'user', content: prompt }];

const usageOf = (u) =>
  u ? { input: u.prompt_tokens, output: u.completion_tokens, total: u.total_tokens } : null;

const ops = {
  async chat() {
    const res = await client.chat.completions.create({ model, messages });
    return {
      id: res.id,
      object: res.object,
      model: res.model,
      text: res.choices[0]?.message?.content ?? '',
      role: res.choices[0]?.message?.role ?? '',
      finish: res.choices[0]?.finish_reason ?? '',
      usage: usageOf(res.usage),
    };
  },

  async stream() {
    const stream = await client.chat.completions.create({
      model,
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let chunks = 0;
    let usageChunks = 0;
    let usageLast = false;
    let usage = null;
    let finish = '';
    const ids = new Set();
    for await (const chunk of stream) {
      ids.add(chunk.id);
      usageLast = false;
      for (const c of chunk.choices) {
        if (c.delta?.content) {
          text += c.delta.content;
          chunks++;
        }
        if (c.finish_reason) finish = c.finish_reason;
      }
      if (chunk.usage) {
        usageChunks++;
        usage = usageOf(chunk.usage);
        // The usage chunk is documented as the last, with no choices.
        usageLast = chunk.choices.length === 0;
      }
    }
    return { text, chunks, finish, usage, usage_chunks: usageChunks, usage_last: usageLast, ids: ids.size };
  },

  async 'stream-helper'() {
    const runner = client.chat.completions.stream({
      model,
      messages,
      stream_options: { include_usage: true },
    });
    let chunks = 0;
    runner.on('content', () => chunks++);
    const res = await runner.finalChatCompletion();
    return {
      text: res.choices[0]?.message?.content ?? '',
      finish: res.choices[0]?.finish_reason ?? '',
      chunks,
      usage: usageOf(res.usage),
    };
  },
};

await main(ops, op, {
  AuthenticationError: OpenAI.AuthenticationError,
  PermissionDeniedError: OpenAI.PermissionDeniedError,
  RateLimitError: OpenAI.RateLimitError,
  BadRequestError: OpenAI.BadRequestError,
  NotFoundError: OpenAI.NotFoundError,
  InternalServerError: OpenAI.InternalServerError,
  APIConnectionError: OpenAI.APIConnectionError,
  APIError: OpenAI.APIError,
}, OpenAI.APIError);
