#!/usr/bin/env node
import { runReferenceAgent } from './reference-agent.js';

runReferenceAgent(process.env, (line) => {
  console.log(`reference agent: ${line}`);
}).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`reference agent: ${(error as Error).message}`);
    process.exit(2);
  },
);
