#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { buildCommand, buildHelp } from './build-command.js';
import { duCommand, pruneCommand } from './cache-commands.js';
import { imagetoolsCommand } from './imagetools-command.js';
import { loginCommand, logoutCommand } from './login-commands.js';
import { formatError, UsageError } from './errors.js';

const help = `Usage: dockyard COMMAND [OPTIONS]

A daemonless container image builder with docker buildx's flags.

Commands:
  build       Build an image from a Dockerfile (try: dockyard build --dry-run .)
  du          Show disk usage of the build cache
  prune       Remove build cache
  imagetools  Inspect images in registries and promote them without rebuilding
  login       Log in to a registry (Docker's config.json)
  logout      Log out from a registry

Options:
  -h, --help     Show this help
  -v, --version  Print the version

Run 'dockyard COMMAND --help' for more on a command.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Finds the -f value for error messages, without parsing the rest. */
function dockerfileNameIn(argv: string[]): string {
  const i = argv.findIndex((a) => a === '-f' || a === '--file');
  if (i >= 0 && argv[i + 1]) return argv[i + 1]!;
  const eq = argv.find((a) => a.startsWith('--file='));
  return eq ? eq.slice('--file='.length) : 'Dockerfile';
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(command === 'help' && rest[0] === 'build' ? buildHelp : help);
      return 0;
    case '-v':
    case '--version':
    case 'version':
      process.stdout.write(`dockyard ${version()}\n`);
      return 0;
    case 'build':
      return buildCommand(rest, process.stdout);
    case 'du':
      return duCommand(rest, process.stdout);
    case 'prune':
      return pruneCommand(rest, process.stdout);
    case 'imagetools':
      return imagetoolsCommand(rest, process.stdout);
    case 'login':
      return loginCommand(rest, process.stdout);
    case 'logout':
      return logoutCommand(rest, process.stdout);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}. See 'dockyard --help'`);
  }
}

const argv = process.argv.slice(2);
main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(formatError(err, dockerfileNameIn(argv)) + '\n');
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
