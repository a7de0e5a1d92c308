import * as core from '@actions/core';
import { fileURLToPath } from 'node:url';
import { settle, UsageError } from '../errors.js';
import { runAction } from './run.js';

// The Action's one bundled file (dist/action/index.js) is two programs: without arguments, as the
// runner starts it, the Action; with `build ...`, the `dockyard build` the Action runs in a process
// of its own (under sudo when it needs root).

async function buildCli(argv: string[]): Promise<number> {
  if (argv[0] !== 'build') throw new UsageError(`the Action's bundle runs "dockyard build" only, not ${JSON.stringify(argv[0])}`);
  return (await import('../build-command.js')).buildCommand(argv.slice(1), process.stdout);
}

const argv = process.argv.slice(2);
if (argv.length > 0) settle(buildCli(argv), argv);
else runAction(fileURLToPath(import.meta.url)).catch((err: unknown) => core.setFailed(`internal error: ${(err as Error).message}`));
