#!/usr/bin/env node
/**
 * dist/bin/dockyard.cjs, which the `dockyard` command (the shell script dist/bin/dockyard) runs: runs
 * the bundled program beside it (dockyard-program.cjs, cli/main.ts and our modules in one CommonJS
 * file) with a V8 code cache.
 *
 * Why: compiling the program is most of a no-op build's start. V8 can instead take the functions a
 * run compiled from a cache, checked against the source and V8's version and flags (a mismatch is
 * rejected and the source compiled as usual). One cache per command (`build`, `push`, ...), since
 * each compiles different functions, and per set of Node options, since V8 rejects a cache made
 * under other flags (the `dockyard` script gives its daemons one; `node dockyard.cjs` gives none).
 * It is written once, at exit, by the first successful run that found none or had it rejected,
 * through a temporary file and a rename. It lives beside the program, where only the program's owner
 * writes: a cache is code, so a folder others can write (a temporary directory) would let them run
 * theirs. Where that folder is read-only there is just no cache.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const here = dirname(fileURLToPath(import.meta.url));
const program = join(here, 'dockyard-program.cjs');
const command = process.argv[2] ?? '';
/** A short name for a set of Node options (FNV-1a): part of the cache's file name. */
function optionsTag(options: string[]): string {
  if (options.length === 0) return '';
  let h = 0x811c9dc5;
  for (const c of options.join('\0')) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
  return `.${(h >>> 0).toString(16).padStart(8, '0')}`;
}
const cacheFile = join(here, 'code-cache', `${/^[a-z][a-z-]{0,39}$/.test(command) ? command : 'other'}${optionsTag(process.execArgv)}.bin`);

function read(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

const cached = read(cacheFile);
// The CommonJS wrapper, on one line so that the program's line numbers stay as they are.
const source = `(function (exports, require, module, __filename, __dirname) {${readFileSync(program, 'utf8').replace(/^#!.*/, '')}\n})`;
const script = new Script(source, { filename: program, ...(cached ? { cachedData: cached } : {}) });

if (!cached || script.cachedDataRejected) {
  process.once('exit', (code) => {
    // Only a run that succeeded: a mistyped command would otherwise leave a cache of its own.
    if (code !== 0) return;
    const tmp = `${cacheFile}.${process.pid}`;
    try {
      mkdirSync(dirname(cacheFile), { recursive: true });
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
    } catch {
      // Not writable here (every run compiles, as without a cache), or the disk is full.
      rmSync(tmp, { force: true });
    }
  });
}

const module = { exports: {} };
(script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(program), module, program, here);
