// The standalone executable's entry (hack/dist.ts). Bun's bundler may initialise @peculiar/x509's
// tsyringe before the Reflect polyfill that src/webhook/pki.ts imports first, so it comes first here.
import 'reflect-metadata';
await import('../src/cli/main.js');
