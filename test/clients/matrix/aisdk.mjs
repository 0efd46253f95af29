// Cells of the Vercel AI SDK (ai 6) with @ai-sdk/openai and
// @ai-sdk/anthropic, whose providers read OPENAI_BASE_URL / OPENAI_API_KEY
// and ANTHROPIC_BASE_URL / ANTHROPIC_API_KEY. openai(model) is the
// Responses API, openai.chat(model) Chat Completions.
import { generateText, streamText, generateObject, embed, tool, stepCountIs, APICallError } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { createAnthropic } from '@ai-sdk/anthropic';
import { z } from 'zod';
import {
  cfg, MODELS, FORBIDDEN, EMBED_MODEL, FAMILIES, cell, check, checkEcho, checkAnswer,
  toolPrompt, counter, expectError, retryCell,
} from './common.mjs';

// The AI SDK logs call warnings (a setting the provider ignored, ...) on
// stdout, where the result lines go; they belong on stderr.
globalThis.AI_SDK_LOG_WARNINGS = ({ warnings, provider, model }) =>
  console.error(`AI SDK warning (${provider} ${model}): ${JSON.stringify(warnings)}`);

const isAPIError = (e) => APICallError.isInstance(e) || APICallError.isInstance(e?.lastError);
const answer = z.object({ answer: z.string() });
const weather = tool({
  description: 'Current weather',
  inputSchema: z.object({ input: z.string() }),
  execute: async () => ({ temperature_c: 21 }),
});

// The two providers, and how each cell picks its language model.
const providers = {
  'ai-sdk-openai': {
    make: (o) => createOpenAI(o),
    chat: (p, m) => p.chat(m),
  },
  'ai-sdk-anthropic': {
    make: (o) => createAnthropic(o),
    chat: (p, m) => p(m),
  },
};

export function cells() {
  const out = [];
  for (const [C, pv] of Object.entries(providers)) {
    const fams = C === 'ai-sdk-anthropic' ? ['claude', 'gpt'] : FAMILIES;
    for (const fam of fams) {
      const model = MODELS[fam];
      const c = (feature, run, opts) => out.push(cell(C, fam, feature, run, opts));
      const lm = (o = {}) => pv.chat(pv.make(o), o.model ?? model);
      const gen = ({ prompt, key, fetch, maxRetries = 0, model: m }) => {
        const o = {};
        if (key) o.apiKey = key;
        if (fetch) o.fetch = fetch;
        return generateText({ model: pv.chat(pv.make(o), m ?? model), prompt, maxRetries }).then((r) => r.text);
      };
      c('chat', async () => {
        const p = `${C} chat ${fam}`;
        const r = await generateText({ model: lm(), prompt: p, maxRetries: 0 });
        checkEcho(r.text, p);
        check(r.finishReason === 'stop', `finish ${r.finishReason}`);
        check(r.usage.inputTokens > 0 && r.usage.outputTokens > 0, `usage ${JSON.stringify(r.usage)}`);
      });
      c('stream', async () => {
        const p = `${C} stream ${fam}`;
        let failure;
        const r = streamText({ model: lm(), prompt: p, maxRetries: 0, onError: ({ error }) => { failure = error; } });
        let text = '', parts = 0;
        for await (const d of r.textStream) { text += d; parts++; }
        if (failure) throw failure;
        checkEcho(text, p);
        check(parts > 1, 'not streamed');
        check((await r.finishReason) === 'stop', 'finish');
        check((await r.usage).outputTokens > 0, 'no usage');
      });
      c('tools', async () => {
        const r = await generateText({ model: lm(), prompt: toolPrompt(`${C} ${fam}`), tools: { get_weather: weather }, stopWhen: stepCountIs(3), maxRetries: 0 });
        const call = r.steps[0]?.toolCalls?.[0];
        check(call?.toolName === 'get_weather', `no tool call: ${JSON.stringify(r.steps[0]?.content)}`);
        check(r.steps.length >= 2 && r.text, `no answer after the tool (${r.steps.length} steps)`);
      });
      c('structured output', async () => {
        const r = await generateObject({ model: lm(), schema: answer, prompt: `Reply in JSON (${C} ${fam})`, maxRetries: 0 });
        checkAnswer(r.object);
      });
      if (C === 'ai-sdk-openai') {
        c('responses', async () => {
          const p = `${C} responses ${fam}`;
          const r = await generateText({ model: createOpenAI()(model), prompt: p, maxRetries: 0 });
          checkEcho(r.text, p);
          let failure, text = '';
          const s = streamText({ model: createOpenAI()(model), prompt: p, maxRetries: 0, onError: ({ error }) => { failure = error; } });
          for await (const d of s.textStream) text += d;
          if (failure) throw failure;
          checkEcho(text, p);
        });
        if (fam === 'gpt') {
          c('embeddings', async () => {
            const r = await embed({ model: createOpenAI().embedding(EMBED_MODEL), value: 'one', maxRetries: 0 });
            check(r.embedding.length > 0, 'no vector');
          });
        }
      } else if (fam === 'claude') {
        c('baseURL from init', async () => {
          // The base URL `tokenomics init` lists for @ai-sdk/anthropic, passed in code.
          const p = `${C} explicit base URL`;
          const r = await generateText({ model: createAnthropic({ baseURL: cfg.anthropicV1 })(model), prompt: p, maxRetries: 0 });
          checkEcho(r.text, p);
          return cfg.anthropicV1;
        });
      }
      c('401', () => expectError(() => gen({ prompt: 'x', key: cfg.bad }), 401, isAPIError));
      c('403', () => expectError(() => gen({ prompt: 'x', model: FORBIDDEN[fam] }), 403, isAPIError));
      c('413', () => expectError(() => gen({ prompt: 'x'.repeat(cfg.big) }), 413, isAPIError));
      c('429 budget', async () => {
        // The AI SDK retries every 429 (it reads no x-should-retry): with its
        // default of 2 retries the refusal surfaces after about 6 s.
        const n = counter();
        const d = await expectError(() => gen({ prompt: 'x', key: cfg.budget, fetch: n.fetch, maxRetries: 2 }), 429, isAPIError);
        return `${d} (${n.n} requests)`;
      });
      out.push(retryCell(C, fam, ({ key, fetch, prompt }) => gen({ prompt, key, fetch, maxRetries: 2 })));
    }
  }
  return out;
}
