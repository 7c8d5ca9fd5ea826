#!/usr/bin/env node
import { runLlmAgent } from './llm-agent.js';

runLlmAgent(process.env, (line) => {
  console.log(`llm agent: ${line}`);
}).then(
  // Exits once stdout has taken everything: a report line can be a megabyte, and a pipe takes it in parts.
  (code) => process.stdout.write('', () => process.exit(code)),
  (error: unknown) => {
    console.error(`llm agent: ${(error as Error).message}`);
    process.exit(2);
  },
);
