/** Builder flags (`--from=build`, `--link`, repeated `--mount=...`) checked against what each instruction allows. */

export type FlagKind = 'string' | 'bool' | 'list';
export type FlagSpec = Record<string, FlagKind>;

export type FlagValues<S extends FlagSpec> = {
  [K in keyof S]: S[K] extends 'list' ? string[] : S[K] extends 'bool' ? boolean : string | undefined;
};

export function parseFlags<S extends FlagSpec>(raw: string[], spec: S, keyword: string): FlagValues<S> {
  const values: Record<string, string | boolean | string[] | undefined> = {};
  for (const [name, kind] of Object.entries(spec)) values[name] = kind === 'list' ? [] : kind === 'bool' ? false : undefined;
  const seen = new Set<string>();
  for (const flag of raw) {
    if (!flag.startsWith('--')) throw new Error(`${keyword}: arguments to flags must start with --: ${flag}`);
    const eq = flag.indexOf('=');
    const name = eq < 0 ? flag.slice(2) : flag.slice(2, eq);
    const value = eq < 0 ? undefined : flag.slice(eq + 1);
    const kind = spec[name];
    if (!kind) {
      const allowed = Object.keys(spec).map((n) => '--' + n);
      throw new Error(`unknown flag --${name} for ${keyword}` + (allowed.length ? ` (it takes ${allowed.join(', ')})` : ' (it takes no flags)'));
    }
    if (kind !== 'list' && seen.has(name)) throw new Error(`duplicate flag specified: --${name}`);
    seen.add(name);
    if (kind === 'bool') {
      if (value !== undefined && value.toLowerCase() !== 'true' && value.toLowerCase() !== 'false') {
        throw new Error(`expecting boolean value for flag --${name}, not: ${value}`);
      }
      values[name] = value === undefined || value.toLowerCase() === 'true';
    } else if (value === undefined) {
      throw new Error(`missing a value on flag --${name}`);
    } else if (kind === 'list') {
      (values[name] as string[]).push(value);
    } else {
      values[name] = value;
    }
  }
  return values as FlagValues<S>;
}
