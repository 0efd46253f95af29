// Cells of LangChain JS: ChatOpenAI / OpenAIEmbeddings (@langchain/openai),
// reading OPENAI_BASE_URL / OPENAI_API_KEY, and ChatAnthropic
// (@langchain/anthropic), reading ANTHROPIC_BASE_URL / ANTHROPIC_API_KEY.
import { ChatOpenAI, OpenAIEmbeddings } from '@langchain/openai';
import { ChatAnthropic } from '@langchain/anthropic';
import { HumanMessage, ToolMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import {
  cfg, MODELS, FORBIDDEN, EMBED_MODEL, FAMILIES, cell, check, checkEcho, checkAnswer,
  toolPrompt, toolResult, counter, expectError, retryCell,
} from './common.mjs';

const answer = z.object({ answer: z.string() });
const weather = tool(async () => toolResult, {
  name: 'get_weather',
  description: 'Current weather',
  schema: z.object({ input: z.string() }),
});

const clients = {
  'langchain-openai': (o) => {
    const { key, fetch, ...rest } = o;
    const configuration = {};
    if (fetch) configuration.fetch = fetch;
    return new ChatOpenAI({ ...rest, ...(key ? { apiKey: key } : {}), configuration });
  },
  'langchain-anthropic': (o) => {
    const { key, fetch, ...rest } = o;
    return new ChatAnthropic({ ...rest, maxTokens: 256, ...(key ? { apiKey: key } : {}), ...(fetch ? { clientOptions: { fetch } } : {}) });
  },
};

export function cells() {
  const out = [];
  for (const [C, make] of Object.entries(clients)) {
    const fams = C === 'langchain-anthropic' ? ['claude', 'gpt'] : FAMILIES;
    for (const fam of fams) {
      const model = MODELS[fam];
      const c = (feature, run, opts) => out.push(cell(C, fam, feature, run, opts));
      const chat = (o = {}) => make({ model, maxRetries: 0, ...o });
      const invoke = ({ prompt, maxRetries = 0, ...o }) => chat({ maxRetries, ...o }).invoke(prompt).then((m) => m.content);
      c('chat', async () => {
        const p = `${C} chat ${fam}`;
        const m = await chat().invoke(p);
        checkEcho(m.text ?? m.content, p);
        check(m.usage_metadata?.input_tokens > 0 && m.usage_metadata?.output_tokens > 0, `usage ${JSON.stringify(m.usage_metadata)}`);
      });
      c('stream', async () => {
        const p = `${C} stream ${fam}`;
        let text = '', chunks = 0;
        for await (const ch of await chat({ streamUsage: true }).stream(p)) {
          const t = typeof ch.content === 'string' ? ch.content : ch.text;
          if (t) { text += t; chunks++; }
        }
        checkEcho(text, p);
        check(chunks > 1, 'not streamed');
      });
      c('tools', async () => {
        const m = chat().bindTools([weather]);
        const msgs = [new HumanMessage(toolPrompt(`${C} ${fam}`))];
        const r1 = await m.invoke(msgs);
        const call = r1.tool_calls?.[0];
        check(call?.name === 'get_weather', `no tool call: ${JSON.stringify(r1.content)}`);
        msgs.push(r1, new ToolMessage({ content: toolResult, tool_call_id: call.id }));
        const r2 = await m.invoke(msgs);
        check(!r2.tool_calls?.length && (r2.text ?? r2.content), `no answer after the tool: ${JSON.stringify(r2.content)}`);
      });
      c('structured output', async () => {
        const r = await chat().withStructuredOutput(answer).invoke(`Reply in JSON (${C} ${fam})`);
        checkAnswer(r);
      });
      if (C === 'langchain-openai') {
        c('responses', async () => {
          const p = `${C} responses ${fam}`;
          const m = await chat({ useResponsesApi: true }).invoke(p);
          checkEcho(m.text, p);
        });
        if (fam === 'gpt') {
          c('embeddings', async () => {
            const v = await new OpenAIEmbeddings({ model: EMBED_MODEL, maxRetries: 0 }).embedQuery('one');
            check(v.length > 0, 'no vector');
          });
        }
      }
      c('401', () => expectError(() => invoke({ prompt: 'x', key: cfg.bad }), 401));
      c('403', () => expectError(() => invoke({ prompt: 'x', model: FORBIDDEN[fam] }), 403));
      c('413', () => expectError(() => invoke({ prompt: 'x'.repeat(cfg.big) }), 413));
      c('429 budget', async () => {
        // With LangChain's default 6 retries: a budget refusal must stop it
        // at once (it stops on a quota message), not after a minute of backoff.
        const n = counter();
        const d = await expectError(() => invoke({ prompt: 'x', key: cfg.budget, fetch: n.fetch, maxRetries: 6 }), 429);
        check(n.n === 1, `LangChain retried a budget refusal ${n.n - 1} times`);
        return d;
      });
      // LangChain's own retry (AsyncCaller, 6 tries by default) must wait out
      // the Retry-After rather than give up with retry_after_too_large.
      out.push(retryCell(C, fam, ({ key, fetch, prompt }) => invoke({ prompt, key, fetch, maxRetries: 6 })));
    }
  }
  return out;
}
