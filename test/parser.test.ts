import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dumpAll } from '../coordinator/dockerfile/dump.js';
import { DockerfileError } from '../coordinator/dockerfile/errors.js';
import { toInstruction, toStages, type Instruction } from '../coordinator/dockerfile/instructions.js';
import { parseDockerfile } from '../coordinator/dockerfile/parser.js';

const dump = (text: string): string => dumpAll(parseDockerfile(text).instructions);
const typed = (text: string): Instruction[] => parseDockerfile(text).instructions.map(toInstruction);
const one = (text: string): Instruction => typed(text)[0]!;

describe('heredocs', () => {
  it('reads a RUN heredoc body with its line endings and the line range it spans', () => {
    const p = parseDockerfile('FROM busybox\nRUN <<EOF\necho hi\necho there\nEOF\nRUN true\n');
    const run = p.instructions[1]!;
    assert.deepEqual(run.heredocs, [{ name: 'EOF', fileDescriptor: 0, expand: true, chomp: false, content: 'echo hi\necho there\n' }]);
    assert.equal(run.startLine, 2);
    assert.equal(run.endLine, 5);
    assert.equal(p.instructions[2]!.startLine, 6);
  });

  it('strips leading tabs with <<- and matches an indented terminator', () => {
    const p = parseDockerfile('FROM x\nRUN <<-EOT\n\techo a\n\t\techo b\n\tEOT\n');
    const h = p.instructions[1]!.heredocs[0]!;
    assert.equal(h.chomp, true);
    assert.equal(h.content, '\techo a\n\t\techo b\n');
    const ins = toInstruction(p.instructions[1]!);
    assert.equal(ins.kind, 'run');
  });

  it('disables expansion when any part of the delimiter is quoted', () => {
    for (const [word, expand] of [['<<EOF', true], ['<<"EOF"', false], ["<<'EOF'", false], ['<<E"O"F', false]] as const) {
      const h = parseDockerfile(`FROM x\nCOPY ${word} /f\nbody $X\nEOF\n`).instructions[1]!.heredocs[0]!;
      assert.equal(h.name, 'EOF');
      assert.equal(h.expand, expand, word);
    }
  });

  it('reads several heredocs on one line in order, with file descriptors', () => {
    const p = parseDockerfile('FROM x\nRUN cat /dev/fd/3 /dev/fd/4 3<<A 4<<B\na\nA\nb\nB\nLABEL after=1\n');
    const hs = p.instructions[1]!.heredocs;
    assert.deepEqual(hs.map((h) => [h.name, h.fileDescriptor, h.content]), [['A', 3, 'a\n'], ['B', 4, 'b\n']]);
    assert.equal(p.instructions[2]!.startLine, 7);
  });

  it('turns COPY heredocs into inline sources and refuses one as destination', () => {
    const ins = one('COPY <<one.txt <<two.txt /dst/\nfirst\none.txt\nsecond\ntwo.txt\n');
    assert.equal(ins.kind, 'copy');
    if (ins.kind !== 'copy') return;
    assert.deepEqual(ins.copy.inline, [
      { name: 'one.txt', content: 'first\n', expand: true },
      { name: 'two.txt', content: 'second\n', expand: true },
    ]);
    assert.deepEqual(ins.copy.sources, []);
    assert.throws(() => typed('COPY a <<EOF\nx\nEOF\n'), /cannot accept a heredoc as a destination/);
  });

  it('supports heredocs in ADD and under ONBUILD', () => {
    const add = one('ADD <<EOF /etc/motd\nhello\nEOF\n');
    assert.equal(add.kind === 'add' && add.copy.inline[0]!.content, 'hello\n');
    const p = parseDockerfile('FROM x\nONBUILD RUN <<EOF\necho trig\nEOF\n');
    const onbuild = toInstruction(p.instructions[1]!);
    assert.equal(onbuild.kind === 'onbuild' && onbuild.expression, 'RUN <<EOF\necho trig\nEOF');
  });

  it('fails on an unterminated heredoc, naming the line', () => {
    assert.throws(() => parseDockerfile('FROM x\nRUN <<EOF\necho\n'), (e: unknown) => e instanceof DockerfileError && e.line === 2 && /unterminated heredoc/.test(e.message));
  });

  it('reads a heredoc with blanks between << and the delimiter (dockerfile 1.16+)', () => {
    const p = parseDockerfile('FROM x\nRUN cat << EOF > /f\nhello\nEOF\nRUN <<\t"Q"\nq\nQ\nRUN true\n');
    assert.deepEqual(p.instructions[1]!.heredocs, [{ name: 'EOF', fileDescriptor: 0, expand: true, chomp: false, content: 'hello\n' }]);
    assert.deepEqual(p.instructions[2]!.heredocs, [{ name: 'Q', fileDescriptor: 0, expand: false, chomp: false, content: 'q\n' }]);
    assert.equal(p.instructions.length, 4);
  });

  it('finds heredocs on a line that also holds a form expansion cannot evaluate', () => {
    const p = parseDockerfile('FROM x\nRUN echo ${X:=a} <<EOF\nbody\nEOF\nRUN true\n');
    assert.deepEqual(p.instructions[1]!.heredocs.map((h) => [h.name, h.content]), [['EOF', 'body\n']]);
    assert.equal(p.instructions.length, 3);
  });

  it('leaves heredoc syntax alone in exec form and in other instructions', () => {
    assert.equal(parseDockerfile('FROM x\nRUN ["cat", "<<EOF"]\nEOF\n').instructions.length, 3);
    assert.equal(parseDockerfile('FROM x\nLABEL a=<<EOF\n').instructions[1]!.heredocs.length, 0);
  });
});

describe('instructions the corpus does not cover', () => {
  it('SHELL requires JSON and keeps the array', () => {
    const ins = one('SHELL ["/bin/bash", "-eo", "pipefail", "-c"]');
    assert.deepEqual(ins.kind === 'shell' && ins.shell, ['/bin/bash', '-eo', 'pipefail', '-c']);
    assert.throws(() => one('SHELL /bin/bash -c'), /JSON form/);
    assert.equal(dump('SHELL ["powershell", "-command"]'), '(shell "powershell" "-command")\n');
  });

  it('STOPSIGNAL takes exactly one argument', () => {
    assert.equal(dump('STOPSIGNAL SIGKILL'), '(stopsignal "SIGKILL")\n');
    assert.deepEqual(one('STOPSIGNAL 9'), { kind: 'stopsignal', signal: '9', loc: { line: 1, endLine: 1 }, original: 'STOPSIGNAL 9' });
    assert.throws(() => one('STOPSIGNAL'), /exactly one argument/);
  });

  it('MAINTAINER keeps the whole string', () => {
    assert.equal(dump('MAINTAINER Jane Doe <jane@example.com>'), '(maintainer "Jane Doe <jane@example.com>")\n');
    const ins = one('MAINTAINER Jane Doe <jane@example.com>');
    assert.equal(ins.kind === 'maintainer' && ins.name, 'Jane Doe <jane@example.com>');
  });

  it('HEALTHCHECK parses durations, retries, CMD forms and NONE', () => {
    const h = one('HEALTHCHECK --interval=30s --timeout=1m30s --start-period=1.5s --start-interval=500ms --retries=4 CMD curl -f http://localhost/');
    assert.ok(h.kind === 'healthcheck');
    assert.deepEqual(h.health, {
      test: ['CMD-SHELL', 'curl -f http://localhost/'],
      interval: 30e9,
      timeout: 90e9,
      startPeriod: 1.5e9,
      startInterval: 500e6,
      retries: 4,
    });
    const exec = one('HEALTHCHECK CMD ["/bin/check", "--quick"]');
    assert.deepEqual(exec.kind === 'healthcheck' && exec.health.test, ['CMD', '/bin/check', '--quick']);
    const none = one('HEALTHCHECK NONE');
    assert.deepEqual(none.kind === 'healthcheck' && none.health, { test: ['NONE'] });
    assert.throws(() => one('HEALTHCHECK NONE x'), /takes no arguments/);
    assert.throws(() => one('HEALTHCHECK --interval=1us CMD x'), /cannot be less than 1ms/);
    assert.throws(() => one('HEALTHCHECK --retries=-1 CMD x'), /cannot be negative/);
    assert.throws(() => one('HEALTHCHECK --interval=soon CMD x'), /invalid duration/);
    assert.throws(() => one('HEALTHCHECK CONNECT TCP 7000'), /Unknown type "CONNECT"/);
    assert.throws(() => one('HEALTHCHECK CMD'), /Missing command/);
    assert.throws(() => one('HEALTHCHECK --color=red CMD x'), /unknown flag --color/);
  });

  it('ONBUILD nests the trigger and refuses ONBUILD, FROM and MAINTAINER triggers', () => {
    assert.equal(dump('ONBUILD COPY --from=b . /app'), '(onbuild (copy ["--from=b"] "." "/app"))\n');
    const ins = one('ONBUILD   RUN echo "built on $(date)"');
    assert.equal(ins.kind === 'onbuild' && ins.expression, 'RUN echo "built on $(date)"');
    assert.throws(() => one('ONBUILD ONBUILD RUN x'), /isn't allowed/);
    assert.throws(() => one('ONBUILD FROM x'), /FROM isn't allowed as an ONBUILD trigger/);
    assert.throws(() => one('ONBUILD MAINTAINER me'), /MAINTAINER isn't allowed/);
    assert.throws(() => one('ONBUILD COPY onlyone'), /at least two arguments/);
  });
});

describe('directives and continuations', () => {
  it('reads syntax, escape and check only at the top', () => {
    const p = parseDockerfile('# syntax=docker/dockerfile:1\n# check=skip=all\n# escape=`\nFROM x\nRUN a `\n  b\n');
    assert.deepEqual(p.directives, { escape: '`', syntax: 'docker/dockerfile:1', check: 'skip=all' });
    assert.equal(dump('# syntax=docker/dockerfile:1\n# escape=`\nFROM x\nRUN a `\n  b\n'), '(from "x")\n(run "a   b")\n');
    // After an instruction or an ordinary comment, a directive is only a comment.
    assert.equal(parseDockerfile('# hello\n# escape=`\nFROM x\n').directives.escape, '\\');
    assert.equal(parseDockerfile('FROM x\n# escape=`\n').directives.escape, '\\');
  });

  it('rejects a repeated directive and a bad escape token, naming the line', () => {
    assert.throws(() => parseDockerfile('# escape=`\n# escape=\\\nFROM x\n'), (e: unknown) => e instanceof DockerfileError && e.line === 2 && /only one escape/.test(e.message));
    assert.throws(() => parseDockerfile('# escape=x\nFROM x\n'), /invalid escape token/);
  });

  it('skips comments and blank lines inside continuations and warns about the blank ones', () => {
    const p = parseDockerfile('FROM x\nRUN a \\\n# comment\n\n  b\n');
    assert.equal(dumpAll(p.instructions), '(from "x")\n(run "a   b")\n');
    assert.equal(p.warnings.length, 1);
    assert.match(p.warnings[0]!.message, /Empty continuation line/);
  });

  it('handles a byte order mark and CRLF line endings', () => {
    assert.equal(dump('\uFEFFFROM x\r\nRUN a \\\r\n b\r\n'), '(from "x")\n(run "a  b")\n');
  });

  it('groups instructions into stages with global ARGs first', () => {
    const { globalArgs, stages } = toStages(parseDockerfile('ARG V=1\nFROM a:$V AS One\nRUN x\nFROM b\nRUN y\n'));
    assert.equal(globalArgs.length, 1);
    assert.deepEqual(stages.map((s) => [s.index, s.name, s.instructions.length]), [[0, 'one', 1], [1, undefined, 1]]);
  });
});
