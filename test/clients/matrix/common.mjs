// Shared by the matrix cells: configuration, the cell runner, checks and
// the fetch wrapper that counts what an SDK actually sent.
import { requireEnv } from '../lib.mjs';

requireEnv('OPENAI_BASE_URL', 'OPENAI_API_KEY', 'ANTHROPIC_BASE_URL', 'ANTHROPIC_API_KEY', 'MATRIX');

// MATRIX: {bad: token never issued, budget: token whose budget refuses
// everything, rate: {cell: token limited to 1 request per minute},
// anthropicV1: the @ai-sdk/anthropic base URL init lists, big: bytes over
// the proxy's body limit}.
export const cfg = JSON.parse(process.env.MATRIX);

export const MODELS = { gpt: 'gpt-4o', claude: 'claude-sonnet-4-6' };
export const FORBIDDEN = { gpt: 'o3-mini', claude: 'claude-haiku-4-5' };
export const EMBED_MODEL = 'text-embedding-3-small';
export const FAMILIES = ['gpt', 'claude'];

// The fake upstream answers "Echo: <last user message>".
export const echo = (prompt) => 'Echo: ' + prompt;

export function check(cond, msg) {
  if (!cond) throw new CheckError(msg);
}
export function checkEcho(got, prompt) {
  check(got === echo(prompt), `text ${JSON.stringify(got)}, want ${JSON.stringify(echo(prompt))}`);
}
class CheckError extends Error {}

// The JSON schema of every structured-output cell, and its check.
export const answerSchema = {
  type: 'object',
  properties: { answer: { type: 'string' } },
  required: ['answer'],
  additionalProperties: false,
};
export function checkAnswer(obj) {
  check(obj && typeof obj === 'object' && typeof obj.answer === 'string',
    `structured output ${JSON.stringify(obj)} does not match {answer: string}`);
}

// A weather tool; the fake calls a tool the prompt names.
export const toolPrompt = (id) => `Use get_weather for Paris (${id})`;
export const toolResult = '{"temperature_c":21}';

// counter wraps fetch to count the HTTP requests an SDK makes (its retries).
export function counter() {
  const c = { n: 0, statuses: [] };
  c.fetch = async (...args) => {
    c.n++;
    const res = await fetch(...args);
    c.statuses.push(res.status);
    return res;
  };
  return c;
}

// describe turns any SDK's error into "status code/type class: message".
export function describe(err) {
  if (err instanceof CheckError) return 'check: ' + err.message;
  const e = err?.lastError ?? err; // the AI SDK wraps retried failures
  const status = e?.status ?? e?.statusCode ?? e?.response?.status ?? err?.status ?? '';
  const code = e?.code ?? e?.error?.error?.code ?? e?.error?.code ?? e?.data?.error?.code ?? '';
  const type = e?.type ?? e?.error?.error?.type ?? e?.error?.type ?? e?.data?.error?.type ?? '';
  const msg = String(e?.message ?? err).replace(/\s+/g, ' ').slice(0, 400);
  return `${status} ${code || type} ${e?.constructor?.name ?? ''}: ${msg}`.trim();
}

// expectError runs fn and requires it to fail with status (via the SDK's own
// error class when isClass is given); it returns the detail.
export async function expectError(fn, status, isClass) {
  let err;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  check(err, `succeeded; want HTTP ${status}`);
  const d = describe(err);
  check(!(err instanceof CheckError), d);
  const got = err?.status ?? err?.statusCode ?? err?.lastError?.statusCode ?? err?.response?.status;
  check(got === status, `got ${d}; want HTTP ${status}`);
  if (isClass) check(isClass(err), `not the SDK's error class: ${d}`);
  return d;
}

// retryCell builds the "429 retry" cell: one request spends the token's one
// request per minute, a second right after it is refused with a wait of
// just under a minute (Retry-After: 60, retry-after-ms: 59xxx), which the
// SDK must honour and recover from with its own retries.
export function retryCell(client, family, call) {
  return cell(client, family, '429 retry', async () => {
    const key = cfg.rate[`${client}/${family}`];
    check(key, 'no rate-limited token for this cell');
    const first = counter();
    await call({ key, fetch: first.fetch, prompt: 'first of the minute' });
    const second = counter();
    const t0 = Date.now();
    await call({ key, fetch: second.fetch, prompt: 'second of the minute' });
    check(second.statuses.includes(429), `never refused (${second.statuses}): the limit did not apply`);
    return `recovered after ${second.statuses.join(',')} in ${Math.round((Date.now() - t0) / 1000)} s`;
  }, { slow: true });
}

export function cell(client, family, feature, run, opts = {}) {
  return { cell: `${client}/${family}/${feature}`, client, family, feature, run, slow: !!opts.slow };
}

// runCells runs the slow (retry) cells first, all at once, and the rest a
// few at a time beside them, printing each result as it ends.
export async function runCells(cells) {
  const slow = cells.filter((c) => c.slow);
  const fast = cells.filter((c) => !c.slow);
  const one = async (c) => {
    const t0 = Date.now();
    let result = 'green';
    let detail = '';
    try {
      detail = (await c.run()) ?? '';
    } catch (err) {
      result = 'red';
      detail = describe(err);
    }
    const { run, slow: _s, ...rest } = c;
    process.stdout.write(JSON.stringify({ ...rest, result, detail: String(detail), ms: Date.now() - t0 }) + '\n');
  };
  const queue = [...fast];
  const workers = Array.from({ length: 6 }, async () => {
    while (queue.length) await one(queue.shift());
  });
  await Promise.all([...slow.map(one), ...workers]);
}
