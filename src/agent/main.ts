#!/usr/bin/env node
import { runReferenceAgent } from './reference-agent.js';

runReferenceAgent(process.env, (line) => {
  console.log(`reference agent: ${line}`);
}).then(
  // Exits once stdout has taken everything: a report line can be a megabyte, and a pipe takes it in parts.
  (code) => process.stdout.write('', () => process.exit(code)),
  (error: unknown) => {
    console.error(`reference agent: ${(error as Error).message}`);
    process.exit(2);
  },
);
