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

describe('expansion as dockerfile 1.10+ does it', () => {
  const more: Record<string, string> = { ABC: 'abc', ML: 'a\nb', R: '[$0]' };
  const lookupMore = (n: string): string | undefined => more[n] ?? env[n];
  const expandMore = (word: string): string => new ShellLex().process(word, lookupMore).result;

  it('rejects `:` before the trim operators #, ##, % and %%, set or not', () => {
    for (const op of ['#', '##', '%', '%%']) {
      assert.throws(() => expand(`\${FILE:${op}*.}`), new RegExp(`unsupported modifier \\(:${op[0]}\\)`), op);
      assert.throws(() => new ShellLex({ skipUnsetEnv: true }).process(`\${UNSET:${op}x}`, lookup), /unsupported modifier/, op);
    }
  });

  it('replaces every match without replacing the empty match right after one, as Go does', () => {
    assert.equal(expandMore('${ABC//*/x}'), 'x');
    assert.equal(expandMore('${ABC//b*/x}'), 'ax');
    assert.equal(expandMore('${ABC//?/-}'), '---');
    assert.equal(expandMore('${ABC///-}'), '-a-b-c-');
  });

  it('reads $ in a replace-all replacement as a Go template, and a single replacement literally', () => {
    assert.equal(expandMore('${ABC//b/$R}'), 'a[b]c');
    assert.equal(expandMore('${ABC/b/$R}'), 'a[$0]c');
  });

  it('never lets * or ? match a newline', () => {
    assert.equal(expandMore('${ML##*b}'), 'a\nb');
    assert.equal(expandMore('${ML%%a*}'), 'a\nb');
    assert.equal(expandMore('${ML//?/x}'), 'x\nx');
    assert.equal(expandMore('${ML#a?}'), 'a\nb');
  });

  it('leaves forms it cannot evaluate in place when skipping unset variables', () => {
    const lex = new ShellLex({ skipUnsetEnv: true });
    assert.equal(lex.process('echo ${X:=a} ${Y:/p/r} ${Z:?}', lookup).result, 'echo ${X:=a} ${Y:/p/r} ${Z:?}');
    assert.throws(() => lex.process('${NAME:=a}', lookup), /unsupported modifier \(:=\)/);
  });

  it('keeps the blanks after << in the same word, for heredocs', () => {
    assert.deepEqual(words('cat << EOF <<\tX a<b'), ['cat', '<< EOF', '<<\tX', 'a<b']);
  });
});
