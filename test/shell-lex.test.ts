import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ShellLex } from '../coordinator/dockerfile/shell-lex.js';

const env: Record<string, string> = { NAME: 'world', EMPTY: '', PATHS: '/usr/local/bin:/usr/bin:/bin', FILE: 'archive.tar.gz', SPACED: 'a  b' };
const lookup = (n: string): string | undefined => env[n];
const expand = (word: string, escapeToken = '\\'): string => new ShellLex({ escapeToken }).process(word, lookup).result;
const words = (word: string): string[] => new ShellLex().process(word, lookup).words;

describe('variable expansion', () => {
  const cases: [string, string][] = [
    ['$NAME', 'world'],
    ['${NAME}', 'world'],
    ['hello-$NAME!', 'hello-world!'],
    ['$UNSET', ''],
    ['${UNSET:-dflt}', 'dflt'],
    ['${EMPTY:-dflt}', 'dflt'],
    ['${EMPTY-dflt}', ''],
    ['${UNSET-dflt}', 'dflt'],
    ['${NAME:+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ['${EMPTY+alt}', 'alt'],
    ['${UNSET+alt}', ''],
    ['${NAME:-$FILE}', 'world'],
    ['${UNSET:-${NAME}x}', 'worldx'],
    ['${FILE#*.}', 'tar.gz'],
    ['${FILE##*.}', 'gz'],
    ['${FILE%.*}', 'archive.tar'],
    ['${FILE%%.*}', 'archive'],
    ['${PATHS/bin/BIN}', '/usr/local/BIN:/usr/bin:/bin'],
    ['${PATHS//bin/BIN}', '/usr/local/BIN:/usr/BIN:/BIN'],
    ['${FILE/#arch/ARCH}', 'archive.tar.gz'],
    ["'$NAME'", '$NAME'],
    ['"$NAME"', 'world'],
    ['"a \\"quoted\\" $NAME"', 'a "quoted" world'],
    ['"\\x"', '\\x'],
    ['\\$NAME', '$NAME'],
    ['a\\ b', 'a b'],
    ['$', '$'],
    ['${NAME}$', 'world$'],
    ['$1', ''],
  ];
  for (const [input, output] of cases) {
    it(`${input} -> ${JSON.stringify(output)}`, () => assert.equal(expand(input), output));
  }

  it('uses the backtick as escape when the directive says so', () => {
    assert.equal(expand('`$NAME', '`'), '$NAME');
    assert.equal(expand('C:\\dir', '`'), 'C:\\dir');
  });

  it('splits words after expansion, keeping quoted spaces', () => {
    assert.deepEqual(words('$SPACED "$SPACED" x'), ['a', 'b', 'a  b', 'x']);
  });

  it('reports ${VAR:?} and ${VAR?} with the message given', () => {
    assert.throws(() => expand('${UNSET:?must be set}'), /UNSET: must be set/);
    assert.throws(() => expand('${EMPTY:?}'), /EMPTY: is not allowed to be empty/);
    assert.throws(() => expand('${UNSET?}'), /UNSET: is not allowed to be unset/);
    assert.equal(expand('${EMPTY?}'), '');
  });

  it('rejects unterminated quotes and malformed substitutions', () => {
    assert.throws(() => expand('"abc'), /double-quote/);
    assert.throws(() => expand("'abc"), /single-quote/);
    assert.throws(() => expand('${NAME'), /missing '}'/);
    assert.throws(() => expand('${}'), /bad substitution/);
    assert.throws(() => expand('${NAME:=x}'), /unsupported modifier/);
  });

  it('can leave unset variables in place', () => {
    const lex = new ShellLex({ skipUnsetEnv: true });
    assert.equal(lex.process('$A ${B} ${C:-x} $NAME', lookup).result, '$A ${B} ${C:-x} world');
  });
});
