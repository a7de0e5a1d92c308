import { readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { CronExpressionParser } from 'cron-parser';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair, type YAMLMap } from 'yaml';
import { ExpectedError } from '../../oci/expected-error.js';
import { formatPlatform, parsePlatform } from '../../oci/platform.js';
import { parseGitRef, redactRemote } from '../plan/git-ref.js';

/** A mistake in a warm-up file: one line, `FILE:LINE: FIELD: what is wrong`. */
export class WarmFileError extends ExpectedError {}

/** Where an entry's context comes from: a directory on this machine, or a git repository at a ref. */
export type WarmContext = { type: 'path'; dir: string } | { type: 'git'; url: string };

/**
 * One entry of a warm-up file, resolved: its context directory absolute, its Dockerfile a path inside
 * the context (as in `docker buildx bake`), platforms in canonical form. JSON-serialisable: the
 * coordinator keeps it in its job scheduler's template.
 */
export interface WarmEntry {
  name: string;
  context: WarmContext;
  /** Relative to the context. */
  dockerfile: string;
  /** Stages to build, one build each; empty: the last stage. */
  targets: string[];
  /** `os/arch[/variant]`; empty: the platform of the builder. */
  platforms: string[];
  args: Record<string, string>;
  /** A cron pattern, 5 fields or 6 (with seconds first), as BullMQ's job schedulers take it. */
  schedule: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const FIELDS = ['name', 'context', 'dockerfile', 'targets', 'platforms', 'args', 'schedule'] as const;
type Field = (typeof FIELDS)[number];

/**
 * Parses a warm-up file:
 *
 * ```yaml
 * entries:
 *   - name: web
 *     context: ./web                     # or https://host/org/repo.git#ref[:subdir]
 *     dockerfile: Dockerfile             # default, relative to the context
 *     targets: [build, test]             # default: the last stage
 *     platforms: [linux/amd64]           # default: the builder's
 *     args: { NODE_VERSION: "20" }
 *     schedule: "0 3 * * *"              # cron, 5 fields or 6 with seconds
 * ```
 *
 * Every mistake, unknown fields included, is a `WarmFileError` naming the file, the line and the field.
 */
export function parseWarmFile(path: string, text: string = readWarmFile(path)): WarmEntry[] {
  const shown = basename(path);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const lineOf = (node: { range?: [number, number, number] | null | undefined } | null | undefined): number => lines.linePos(node?.range?.[0] ?? 0).line;
  const fail = (node: Parameters<typeof lineOf>[0], field: string, what: string): never => {
    throw new WarmFileError(`${shown}:${lineOf(node)}: ${field}: ${what}`);
  };
  const problem = doc.errors[0];
  if (problem) throw new WarmFileError(`${shown}:${lines.linePos(problem.pos[0]).line}: ${problem.message.split('\n')[0]}`);
  const root = doc.contents;
  if (!isMap(root)) return fail(root, 'entries', 'the file must be a mapping with an entries list');
  for (const pair of root.items) if (keyText(pair) !== 'entries') fail(pair.key as Node, String(keyText(pair)), 'unknown field (expected entries)');
  const list = root.get('entries', true) as Node | undefined;
  if (!isSeq(list)) return fail(list ?? root, 'entries', 'must be a list of entries');
  if (list.items.length === 0) fail(list, 'entries', 'lists no entry');

  const base = dirname(resolve(path));
  const seen = new Map<string, number>();
  return list.items.map((item, i) => {
    const at = `entries[${i}]`;
    if (!isMap(item)) return fail(item as Node, at, 'must be a mapping (name, context, schedule, ...)');
    const map = item as YAMLMap;
    for (const pair of map.items) {
      const key = keyText(pair);
      if (!(FIELDS as readonly string[]).includes(String(key))) fail(pair.key as Node, `${at}.${String(key)}`, `unknown field (expected ${FIELDS.join(', ')})`);
    }
    const node = (f: Field): Node | undefined => (map.get(f, true) as Node | undefined) ?? undefined;
    const str = (f: Field, required: boolean): string | undefined => {
      const n = node(f);
      if (n === undefined) return required ? fail(map, `${at}.${f}`, 'is required') : undefined;
      if (!isScalar(n) || (typeof n.value !== 'string' && typeof n.value !== 'number') || String(n.value) === '') return fail(n, `${at}.${f}`, 'must be a non-empty string');
      return String(n.value);
    };
    const strings = (f: Field, check: (s: string, n: Node) => string): string[] => {
      const n = node(f);
      if (n === undefined) return [];
      if (!isSeq(n)) return fail(n, `${at}.${f}`, 'must be a list');
      return n.items.map((x, j) => {
        if (!isScalar(x) || typeof x.value !== 'string' || x.value === '') return fail(x as Node, `${at}.${f}[${j}]`, 'must be a non-empty string');
        return check(x.value, x);
      });
    };

    const name = str('name', true)!;
    if (!NAME.test(name)) fail(node('name'), `${at}.name`, `invalid name ${JSON.stringify(name)}: use letters, digits, '.', '_' and '-' (at most 63)`);
    const earlier = seen.get(name);
    if (earlier !== undefined) fail(node('name'), `${at}.name`, `${JSON.stringify(name)} is also the name of entries[${earlier}]`);
    seen.set(name, i);

    const contextText = str('context', true)!;
    let context: WarmContext;
    let git;
    try {
      git = parseGitRef(contextText);
    } catch (err) {
      return fail(node('context'), `${at}.context`, (err as Error).message);
    }
    if (git && redactRemote(git.remote) !== git.remote) {
      // The entry is kept in Redis (the scheduler's template): a token there would be a leak.
      return fail(node('context'), `${at}.context`, 'credentials in a git URL would be stored in Redis with the schedule: use a git credential helper or an SSH key instead');
    }
    if (git) context = { type: 'git', url: contextText };
    else if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(contextText)) return fail(node('context'), `${at}.context`, `${JSON.stringify(contextText)} is neither a path nor a git URL (https://HOST/REPO.git#REF)`);
    else context = { type: 'path', dir: isAbsolute(contextText) ? contextText : resolve(base, contextText) };

    const dockerfile = str('dockerfile', false) ?? 'Dockerfile';
    if (isAbsolute(dockerfile) || dockerfile.split('/').includes('..')) fail(node('dockerfile'), `${at}.dockerfile`, 'must be a path inside the context');

    const targets = strings('targets', (s) => s);
    const platforms = strings('platforms', (s, n) => {
      try {
        return formatPlatform(parsePlatform(s));
      } catch (err) {
        return fail(n, `${at}.platforms`, (err as Error).message);
      }
    });

    const args: Record<string, string> = {};
    const argsNode = node('args');
    if (argsNode !== undefined) {
      if (!isMap(argsNode)) fail(argsNode, `${at}.args`, 'must be a mapping of build arguments to values');
      for (const pair of (argsNode as YAMLMap).items) {
        const key = keyText(pair);
        const v = pair.value as Node | null;
        if (typeof key !== 'string' || key === '') fail(pair.key as Node, `${at}.args`, 'a build argument needs a name');
        if (!isScalar(v) || v.value === null || typeof v.value === 'object') fail(v ?? (pair.key as Node), `${at}.args.${String(key)}`, 'must be a string');
        args[key as string] = String((v as { value: unknown }).value);
      }
    }

    const schedule = str('schedule', true)!.trim();
    checkSchedule(schedule, (what) => fail(node('schedule'), `${at}.schedule`, what));
    return { name, context, dockerfile, targets, platforms, args, schedule };
  });
}

function readWarmFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new WarmFileError(`cannot read warm-up file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function keyText(pair: Pair): unknown {
  return isScalar(pair.key) ? pair.key.value : pair.key;
}

/** The parser BullMQ's job schedulers use, so that a pattern accepted here is one they accept. */
function checkSchedule(pattern: string, fail: (what: string) => never): void {
  const fields = pattern.split(/\s+/).length;
  if (fields !== 5 && fields !== 6) fail(`${JSON.stringify(pattern)} has ${fields} fields: expected a cron pattern of 5 (minute hour day month weekday) or 6 (seconds first)`);
  try {
    CronExpressionParser.parse(pattern);
  } catch (err) {
    fail(`invalid cron pattern ${JSON.stringify(pattern)}: ${(err as Error).message}`);
  }
}
