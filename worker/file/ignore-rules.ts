import dockerignore, { type Ignore } from '@balena/dockerignore';

// The package is CommonJS with a default-export typing: Node's default import is module.exports, the
// factory itself. A static import (not require) lets the Action's bundler include the package.
const createIgnore = dockerignore as unknown as (options?: { ignorecase?: boolean }) => Ignore;

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
