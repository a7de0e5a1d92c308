#!/usr/bin/env node
import { settle, UsageError } from './errors.js';
import { version } from './version.js';

// Commands are loaded when used: `--version` need not load the build engine.

const help = `Usage: dockyard COMMAND [OPTIONS]

A daemonless container image builder with docker buildx's flags.

Commands:
  build       Build an image from a Dockerfile (try: dockyard build --dry-run .)
  du          Show disk usage of the build cache
  prune       Remove build cache
  imagetools  Inspect images in registries and promote them without rebuilding
  login       Log in to a registry (Docker's config.json)
  logout      Log out from a registry
  generate-key-pair
              Write a cosign key pair (cosign.key, cosign.pub)
  sign        Sign an image in a registry (cosign's formats)
  verify      Verify an image's signatures with a public key
  coordinator Run a build farm coordinator (queue, scheduling, shared cache)
  worker      Run build steps for a farm coordinator
  queue       Show and cancel builds queued on a farm (ls, inspect, cancel)
  warm        Warm the build cache with the entries of a warm-up file

Options:
  -h, --help     Show this help
  -v, --version  Print the version

Run 'dockyard COMMAND --help' for more on a command.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(command === 'help' && rest[0] === 'build' ? (await import('./build-flags.js')).buildHelp : help);
      return 0;
    case '-v':
    case '--version':
    case 'version':
      process.stdout.write(`dockyard ${version()}\n`);
      return 0;
    case 'build':
      return (await import('./build-command.js')).buildCommand(rest, process.stdout);
    case 'du':
      return (await import('./cache-commands.js')).duCommand(rest, process.stdout);
    case 'prune':
      return (await import('./cache-commands.js')).pruneCommand(rest, process.stdout);
    case 'imagetools':
      return (await import('./imagetools-command.js')).imagetoolsCommand(rest, process.stdout);
    case 'login':
      return (await import('./login-commands.js')).loginCommand(rest, process.stdout);
    case 'logout':
      return (await import('./login-commands.js')).logoutCommand(rest, process.stdout);
    case 'generate-key-pair':
      return (await import('./signing-commands.js')).generateKeyPairCommand(rest, process.stdout);
    case 'sign':
      return (await import('./signing-commands.js')).signCommand(rest, process.stdout);
    case 'verify':
      return (await import('./signing-commands.js')).verifyCommand(rest, process.stdout);
    case 'coordinator':
      return (await import('./coordinator-command.js')).coordinatorCommand(rest, process.stdout);
    case 'queue':
      return (await import('./queue-command.js')).queueCommand(rest, process.stdout);
    case 'warm':
      return (await import('./warm-command.js')).warmCommand(rest, process.stdout);
    case 'worker':
      return (await import('./worker-command.js')).workerCommand(rest, process.stdout);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}. See 'dockyard --help'`);
  }
}

const argv = process.argv.slice(2);
settle(main(argv), argv);
