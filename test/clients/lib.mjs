// Shared by openai.mjs and anthropic.mjs: argument parsing and the one JSON
// line each run prints for clients_test.go to assert on.

// args returns {op, model, prompt} from argv, or exits with usage.
export function args(script) {
  const [op, model, prompt] = process.argv.slice(2);
  if (!op || !model || !prompt) {
    console.error(`usage: node ${script} <op> <model> <prompt>`);
    process.exit(2);
  }
  return { op, model, prompt };
}

// requireEnv refuses to run without the variables `tokenomics init` prints,
// so a missing one can never send a test request to a real provider.
export function requireEnv(...names) {
  for (const n of names) {
    if (!process.env[n]) {
      console.error(`${n} is not set; run with the output of tokenomics init`);
      process.exit(2);
    }
  }
}

// describeError records what a caller of the SDK can branch on. sdkClass is
// found with instanceof against the SDK's own exports, so it does not rest
// on constructor names surviving a bundler.
export function describeError(err, classes) {
  let sdkClass = '';
  for (const [name, cls] of Object.entries(classes)) {
    if (cls && err instanceof cls) {
      sdkClass = name;
      break;
    }
  }
  return {
    class: err?.constructor?.name ?? '',
    sdk_class: sdkClass,
    status: err?.status ?? 0,
    code: err?.code ?? err?.error?.error?.code ?? '',
    type: err?.type ?? err?.error?.error?.type ?? '',
    message: String(err?.message ?? err),
  };
}

// main runs ops[op] and prints its result; an API error is a result too
// (the Go side decides whether it was expected), anything else exits 1.
export async function main(ops, op, classes, apiError) {
  const fn = ops[op];
  if (!fn) {
    console.error(`unknown op ${op}; known: ${Object.keys(ops).join(', ')}`);
    process.exit(2);
  }
  try {
    const res = await fn();
    process.stdout.write(JSON.stringify({ ok: true, ...res }) + '\n');
  } catch (err) {
    if (!(err instanceof apiError)) {
      console.error(err);
      process.exit(1);
    }
    process.stdout.write(JSON.stringify({ ok: false, error: describeError(err, classes) }) + '\n');
  }
}
