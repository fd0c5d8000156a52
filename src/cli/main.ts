#!/usr/bin/env node
// The `porthole` executable (package.json "bin"): everything lives in run-cli.ts so tests can drive it in-process.
import { runCli } from './run-cli.js';

const code = await runCli(process.argv.slice(2), {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  env: process.env,
});
// exitCode rather than exit(): let stdout drain; every command has closed its database by now.
process.exitCode = code;
