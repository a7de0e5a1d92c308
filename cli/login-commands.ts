import { readFileSync } from 'node:fs';
import { registrySettings } from '../coordinator/registry/registry-images.js';
import { RegistryClient } from '../oci/registry/client.js';
import { dockerConfigPath, removeCredentials, saveCredentials } from '../oci/registry/credentials.js';
import { parseCommandArgs, UsageError } from './errors.js';

export const loginHelp = `Usage: dockyard login [OPTIONS] SERVER

Log in to a registry; the credentials go to Docker's config.json ($DOCKER_CONFIG), as docker login writes them.

Options:
  -u, --username string   Username
  -p, --password string   Password
      --password-stdin    Take the password from stdin
`;

/** `docker login` normalises Docker Hub's names to docker.io. */
const serverName = (s: string): string => (/^(https?:\/\/)?(index\.|registry-1\.)?docker\.io(\/.*)?$/.test(s) ? 'docker.io' : s.replace(/^https?:\/\//, '').replace(/\/.*$/, ''));

export async function loginCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const { values, positionals } = parseCommandArgs('login', { args: argv, allowPositionals: true, strict: true, options: { username: { type: 'string', short: 'u' }, password: { type: 'string', short: 'p' }, 'password-stdin': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) return out.write(loginHelp), 0;
  if (positionals.length !== 1) throw new UsageError(`"dockyard login" requires exactly 1 argument (the SERVER). See 'dockyard login --help'`);
  const server = serverName(positionals[0]!);
  const username = values.username;
  const password = values['password-stdin'] ? readFileSync(0, 'utf8').replace(/\r?\n$/, '') : values.password;
  if (!username || password === undefined) throw new UsageError('dockyard login needs --username and --password (or --password-stdin)');
  // Check the credentials the way docker login does: ask the registry's API root with them.
  const client = new RegistryClient(server, { insecure: registrySettings().insecure, credentials: () => ({ username, password }) });
  await client.request('/v2/', { repo: '', actions: [] });
  saveCredentials(server, username, password);
  out.write(`Login Succeeded (credentials stored in ${dockerConfigPath()})\n`);
  return 0;
}

export async function logoutCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  if (argv.length !== 1 || argv[0]!.startsWith('-')) throw new UsageError(`"dockyard logout" requires exactly 1 argument (the SERVER)`);
  const server = serverName(argv[0]!);
  out.write(removeCredentials(server) ? `Removing login credentials for ${server}\n` : `Not logged in to ${server}\n`);
  return 0;
}
