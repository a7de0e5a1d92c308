import { createRequire } from 'node:module';

/**
 * Node's modules that load when first used rather than by an import. Each costs a command that does
 * not use it milliseconds at start, and a no-op build, the shortest command that matters, spawns
 * nothing, compresses nothing and opens no TLS connection (child_process, with the net and dgram
 * modules it loads, 4 ms; zlib 4; tls 5). Packages load lazily through `await import()` instead,
 * which the Action's bundle can follow.
 */
const load = createRequire(import.meta.url);

export const childProcess = (): typeof import('node:child_process') => load('node:child_process');
export const zlib = (): typeof import('node:zlib') => load('node:zlib');
export const tls = (): typeof import('node:tls') => load('node:tls');

/**
 * Loads them all, and the packages loaded the same way: for a long-lived process (a farm worker or
 * coordinator), whose first step or export should not pay for them.
 */
export async function preloadModules(): Promise<void> {
  childProcess();
  zlib();
  tls();
  await Promise.all([import('tar-stream'), import('picomatch')]);
}
