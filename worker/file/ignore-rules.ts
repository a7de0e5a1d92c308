import { createRequire } from 'node:module';
import type { Ignore } from '@balena/dockerignore';

// The package is CommonJS with a default-export typing; load it through require to get the factory itself.
const createIgnore = createRequire(import.meta.url)('@balena/dockerignore') as (options?: { ignorecase?: boolean }) => Ignore;

/** `.dockerignore`-style patterns (also `COPY --exclude`), `!` exceptions included, with Docker's matching rules. */
export class IgnoreRules {
  private readonly matcher: Ignore;
  readonly patterns: string[];
  /** With an exception, an ignored directory may still hold files that are not ignored. */
  readonly hasExceptions: boolean;

  constructor(patterns: string[]) {
    this.patterns = patterns;
    this.matcher = createIgnore({ ignorecase: false }).add(patterns);
    this.hasExceptions = patterns.some((p) => p.startsWith('!'));
  }

  /** Parses `.dockerignore` text: one pattern a line, `#` comments, blank lines ignored. */
  static fromText(text: string): IgnoreRules {
    const patterns = text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    return new IgnoreRules(patterns);
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /** `relPath` is slash-separated and relative to the context root. */
  ignores(relPath: string): boolean {
    return this.patterns.length > 0 && this.matcher.ignores(relPath);
  }
}
