import * as core from '@actions/core';
import { parseInputList, type ListOptions } from './input-list.js';

/** The list inputs, each read as docker/build-push-action reads it (`src/context.ts`). */
const lists = {
  'add-hosts': {},
  allow: {},
  annotations: { ignoreComma: true },
  attests: { ignoreComma: true },
  'build-args': { ignoreComma: true },
  'build-contexts': { ignoreComma: true },
  'cache-from': { ignoreComma: true },
  'cache-to': { ignoreComma: true },
  labels: { ignoreComma: true },
  'no-cache-filters': {},
  outputs: { ignoreComma: true, quote: false },
  platforms: {},
  secrets: { ignoreComma: true, trimWhitespace: false },
  'secret-envs': {},
  'secret-files': { ignoreComma: true },
  ssh: {},
  tags: {},
  ulimit: { ignoreComma: true },
} as const satisfies Record<string, ListOptions>;

/** Single-value inputs: build-push-action's, then Dockyard's own. */
const strings = ['builder', 'call', 'cgroup-parent', 'context', 'file', 'network', 'provenance', 'sbom', 'shm-size', 'target', 'github-token', 'builder-token', 'cosign-key', 'cosign-password', 'cache-dir'] as const;

/** Boolean inputs and their defaults (action.yml gives the same ones; a test run may leave them unset). */
const booleans = { load: false, 'no-cache': false, pull: false, push: false, sign: false, summary: true } as const;

export type ListInput = keyof typeof lists;
export type StringInput = (typeof strings)[number];
export type BooleanInput = keyof typeof booleans;

export type ActionInputs = { [K in ListInput]: string[] } & { [K in StringInput]: string } & { [K in BooleanInput]: boolean };

/** Every input name the Action knows, for action.yml's check. */
export const inputNames: string[] = [...Object.keys(lists), ...strings, ...Object.keys(booleans)];

/** Reads the step's inputs (INPUT_* variables) through @actions/core. */
export function readInputs(): ActionInputs {
  const out: Record<string, string[] | string | boolean> = {};
  for (const [name, opts] of Object.entries(lists)) {
    out[name] = parseInputList(core.getInput(name, { trimWhitespace: (opts as ListOptions).trimWhitespace !== false }), opts);
  }
  for (const name of strings) out[name] = core.getInput(name);
  for (const [name, fallback] of Object.entries(booleans)) out[name] = core.getInput(name) === '' ? fallback : core.getBooleanInput(name);
  return out as ActionInputs;
}
