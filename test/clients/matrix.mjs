// The SDK compatibility matrix: every client × model family × feature cell
// against `tokenomics serve`, each printing one JSON line:
//   {"cell":"openai/gpt/chat","client":"openai","family":"gpt","feature":"chat",
//    "result":"green"|"red","detail":"...","ms":12}
// Driven by ../clients_test.go (TestClientMatrix), which decides what a red
// cell means (a documented refusal or a failure) and writes the table.
// Usage: node matrix.mjs [cell-regex]
// Environment: the variables of `tokenomics init` plus MATRIX, a JSON object
// of the extra tokens and URLs the error cells need (see matrix/common.mjs).
import { cells as openaiCells } from './matrix/openai.mjs';
import { cells as anthropicCells } from './matrix/anthropic.mjs';
import { cells as aisdkCells } from './matrix/aisdk.mjs';
import { cells as langchainCells } from './matrix/langchain.mjs';
import { runCells } from './matrix/common.mjs';

const filter = process.argv[2] ? new RegExp(process.argv[2]) : null;
const all = [...openaiCells(), ...anthropicCells(), ...aisdkCells(), ...langchainCells()];
await runCells(all.filter((c) => !filter || filter.test(c.cell)));
