/**
 * Issue #9's project, generated from a fixed seed so that every run builds the same bytes: a Dockerfile
 * of three stages and a 3,000-file, 18 MB source tree (`bench/project.bench.ts`, `bench/noop.bench.ts`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The source file a one-file edit appends to. */
export const EDITED = join('src', 'pkg7', 'mod3', 'file5.ts');

/** A small deterministic generator (mulberry32): the same tree on every machine. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['const', 'let', 'function', 'return', 'import', 'export', 'value', 'index', 'result', 'config', 'handler', 'request', 'response', 'buffer', 'stream', 'await', 'async', 'if', 'else', 'for'];

/** 3,000 files of 6 KB on average (18 MB) in 20 packages of 10 modules, as source code is laid out. */
export function makeProject(dir: string): void {
  const next = random(9);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'Dockerfile'),
    [
      'FROM busybox AS deps',
      'RUN mkdir /deps && for i in $(seq 1 40); do yes "dependency $i: a line of vendored text" | head -c 1000000 > /deps/dep$i.txt; done',
      '',
      'FROM busybox AS build',
      'COPY --from=deps /deps /deps',
      'COPY src/ /src/',
      'RUN find /src -type f | sort | xargs cat | wc -c > /src-bytes && tar -cf /app.tar -C /src .',
      '',
      'FROM busybox',
      'COPY --from=deps /deps /deps',
      'COPY --from=build /app.tar /app.tar',
      'CMD ["wc", "-c", "/app.tar"]',
    ].join('\n') + '\n',
  );
  let n = 0;
  for (let p = 0; p < 20; p++) {
    for (let m = 0; m < 10; m++) {
      const sub = join(dir, 'src', `pkg${p}`, `mod${m}`);
      mkdirSync(sub, { recursive: true });
      for (let f = 0; f < 15; f++, n++) {
        const size = 1000 + Math.floor(next() * 10000);
        let text = `// file ${n}\n`;
        while (text.length < size) {
          const line: string[] = [];
          for (let w = 0; w < 8; w++) line.push(WORDS[Math.floor(next() * WORDS.length)]!);
          text += line.join(' ') + ';\n';
        }
        writeFileSync(join(sub, `file${f}.ts`), text.slice(0, size));
      }
    }
  }
}
