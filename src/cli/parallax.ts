#!/usr/bin/env node
// `parallax`: the Parallax orchestrator's command line (verbs in src/orchestrator/commands/).
import { runCli } from '../orchestrator/commands/index.js';

// `parallax watch | head`: a closed pipe ends the program quietly
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env });
process.exitCode = code;
