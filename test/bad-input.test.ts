import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeDir, runCli } from './helpers.js';

/** [name, Dockerfile, line the error must name, what the message must say] */
const dockerfileCases: [string, string, number, RegExp][] = [
  ['empty file', '', 1, /file with no instructions/],
  ['only comments', '# nothing\n# here\n', 2, /file with no instructions/],
  ['unknown instruction', 'FROM busybox\nFORM busybox\n', 2, /unknown instruction: FORM \(did you mean FROM\?\)/],
  ['unknown instruction far from any', 'FROM busybox\nXYZZYQ a\n', 2, /unknown instruction: XYZZYQ$/],
  ['instruction before FROM', 'RUN echo\nFROM busybox\n', 1, /RUN must come after a FROM/],
  ['unknown flag', 'FROM busybox\nCOPY --form=x a.txt /\n', 2, /unknown flag --form for COPY/],
  ['flag of another instruction', 'FROM busybox\nRUN --from=x echo\n', 2, /unknown flag --from for RUN/],
  ['flag on ENV', 'FROM busybox\nENV --x=1 A=b\n', 2, /unknown flag --x for ENV \(it takes no flags\)/],
  ['bad boolean flag', 'FROM busybox\nCOPY --link=maybe a.txt /\n', 2, /expecting boolean value for flag --link/],
  ['flag without value', 'FROM busybox\nCOPY --chown a.txt /\n', 2, /missing a value on flag --chown/],
  ['repeated flag', 'FROM busybox\nCOPY --chown=1 --chown=2 a.txt /\n', 2, /duplicate flag specified: --chown/],
  ['FROM with two words', 'FROM busybox extra\n', 1, /FROM requires either one or three arguments/],
  ['bad stage name', 'FROM busybox AS 1stage\n', 1, /invalid name for build stage: "1stage"/],
  ['duplicate stage name', 'FROM busybox AS a\nFROM busybox AS a\n', 2, /duplicate stage name "a" \(first used on line 1\)/],
  ['COPY without destination', 'FROM busybox\nCOPY a.txt\n', 2, /COPY requires at least two arguments/],
  ['ENV without value', 'FROM busybox\nENV PATH\n', 2, /ENV must have two arguments/],
  ['ENV with blank name', 'FROM busybox\nENV =value\n', 2, /ENV names can not be blank/],
  ['LABEL without value', 'FROM busybox\nLABEL novalue\n', 2, /LABEL must have two arguments/],
  ['ARG with blank name', 'FROM busybox\nARG =x\n', 2, /ARG names can not be blank/],
  ['nested JSON', 'FROM busybox\nCMD [ "echo", [ "nested" ] ]\n', 2, /arrays must be comprised of strings only/],
  ['SHELL in shell form', 'FROM busybox\nSHELL /bin/bash -c\n', 2, /SHELL requires the arguments to be in JSON form/],
  ['WORKDIR without path', 'FROM busybox\nWORKDIR\n', 2, /WORKDIR requires exactly one argument/],
  ['EXPOSE without port', 'FROM busybox\nEXPOSE\n', 2, /EXPOSE requires at least one argument/],
  ['bad EXPOSE', 'FROM busybox\nEXPOSE http\n', 2, /invalid port "http"/],
  ['bad STOPSIGNAL', 'FROM busybox\nSTOPSIGNAL SIGFOO\n', 2, /invalid signal: SIGFOO/],
  ['tiny healthcheck interval', 'FROM busybox\nHEALTHCHECK --interval=1us CMD true\n', 2, /cannot be less than 1ms/],
  ['unknown healthcheck type', 'FROM busybox\nHEALTHCHECK CONNECT TCP 80\n', 2, /Unknown type "CONNECT" in HEALTHCHECK/],
  ['ONBUILD ONBUILD', 'FROM busybox\nONBUILD ONBUILD RUN x\n', 2, /ONBUILD ONBUILD/],
  ['ONBUILD FROM', 'FROM busybox\nONBUILD FROM alpine\n', 2, /FROM isn't allowed as an ONBUILD trigger/],
  ['bad escape directive', '# escape=x\nFROM busybox\n', 1, /invalid escape token 'x'/],
  ['repeated directive', '# syntax=a\n# syntax=b\nFROM busybox\n', 2, /only one syntax parser directive/],
  ['unterminated heredoc', 'FROM busybox\nRUN <<EOF\necho hi\n', 2, /unterminated heredoc EOF/],
  ['heredoc as destination', 'FROM busybox\nCOPY a.txt <<EOF\nx\nEOF\n', 2, /cannot accept a heredoc as a destination/],
  ['unterminated quote', 'FROM busybox\nENV A="open\n', 2, /unexpected end of statement while looking for matching double-quote/],
  ['required variable', 'FROM busybox\nARG VERSION\nWORKDIR /app/${VERSION:?set it with --build-arg VERSION=x}\n', 3, /VERSION: set it with --build-arg VERSION=x/],
  ['bad substitution', 'FROM busybox\nWORKDIR ${}\n', 2, /bad substitution/],
  ['uppercase image name', 'FROM BusyBox\n', 1, /repository name \(library\/BusyBox\) must be lowercase/],
  ['blank base name', 'ARG BASE\nFROM $BASE\n', 2, /base name \(\$BASE\) should not be blank/],
  ['bad FROM platform', 'FROM --platform=linux//arm busybox\n', 1, /invalid platform "linux\/\/arm"/],
  ['missing context file', 'FROM busybox\nCOPY missing.txt /\n', 2, /missing.txt: not found in build context/],
  ['ignored context file', 'FROM busybox\nCOPY ignored.txt /\n', 2, /ignored.txt: excluded by .*\.dockerignore/],
  ['several sources, file destination', 'FROM busybox\nCOPY a.txt b.txt /dst\n', 2, /destination must be a directory and end with a \//],
  ['COPY of a URL', 'FROM busybox\nCOPY https://example.com/x /\n', 2, /use ADD for URLs/],
  ['checksum on a local file', 'FROM busybox\nADD --checksum=sha256:00 a.txt /\n', 2, /--checksum can only be used with http\(s\) sources/],
  ['bad chmod', 'FROM busybox\nCOPY --chmod=rwx a.txt /\n', 2, /invalid --chmod=rwx/],
  ['same or later stage index', 'FROM busybox\nFROM busybox\nCOPY --from=1 /x /x\n', 3, /a stage index must refer to an earlier stage/],
  ['stage cycle', 'FROM busybox AS a\nCOPY --from=b /x /x\nFROM busybox AS b\nCOPY --from=a /y /y\n', 3, /circular dependency between stages: b -> a -> b/],
  ['bad mount type', 'FROM busybox\nRUN --mount=type=nfs,target=/x true\n', 2, /unsupported mount type "nfs"/],
  ['colon before a trim operator', 'FROM busybox\nARG V=a\nWORKDIR /${V:#a}\n', 3, /unsupported modifier \(:#\) in substitution/],
  ['mount at / (no target in WORKDIR /)', 'FROM busybox\nRUN --mount=type=cache true\n', 2, /invalid mount target "\/"/],
  ['missing required secret', 'FROM busybox\nRUN --mount=type=secret,id=tok,required true\n', 2, /secret tok is required but was not provided: pass --secret id=tok/],
  ['bad network', 'FROM busybox\nRUN --network=bridge true\n', 2, /unsupported network mode "bridge"/],
  ['bad image digest', 'FROM busybox@sha256:zz\n', 1, /invalid reference format "busybox@sha256:zz": bad digest/],
];

function check(r: ReturnType<typeof runCli>, where: RegExp, what: RegExp): void {
  assert.notEqual(r.status, 0, 'must exit non-zero');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `expected one line of error, got:\n${r.stderr}`);
  assert.match(lines[0]!, where);
  assert.match(lines[0]!, what);
  assert.doesNotMatch(r.stderr, /\n\s+at |internal error/);
  assert.equal(r.stdout, '');
}

describe('bad Dockerfiles give one clear line naming file and line', () => {
  for (const [name, text, line, what] of dockerfileCases) {
    it(name, () => {
      const dir = makeDir({ 'build.Dockerfile': text, 'a.txt': 'a', 'b.txt': 'b', 'ignored.txt': 'i', '.dockerignore': 'ignored.txt\n' });
      const r = runCli(['build', '--dry-run', '--offline', '-f', 'build.Dockerfile', '.'], { cwd: dir });
      check(r, new RegExp(`^error: build\\.Dockerfile:${line}: `), what);
    });
  }
});

describe('bad flags give one clear line and a non-zero exit', () => {
  // [name, the whole command line, exit status, what the message must say]. A mistake in the call
  // itself exits 2; a --target the Dockerfile lacks is a failed build (1).
  const flagCases: [string, string[], number, RegExp][] = [
    ['unknown flag', ['build', '--dry-run', '--colour'], 2, /Unknown option '--colour'. See 'dockyard build --help'/],
    ['missing context', ['build', '--dry-run'], 2, /requires exactly 1 argument/],
    ['bad platform', ['build', '--dry-run', '--platform', 'linux/amd64,windows//x', '.'], 2, /invalid platform "windows\/\/x"/],
    ['missing Dockerfile', ['build', '--dry-run', '-f', 'nope.Dockerfile', '.'], 2, /Dockerfile .*nope.Dockerfile not found: pass its path with -f/],
    ['bad build-arg', ['build', '--dry-run', '--build-arg', '=x', '.'], 2, /invalid --build-arg "=x"/],
    ['bad label', ['build', '--dry-run', '--label', 'novalue', '.'], 2, /invalid --label "novalue": expected KEY=VALUE/],
    ['bad tag', ['build', '--dry-run', '-t', 'Upper/Case:1', '.'], 2, /invalid tag "Upper\/Case:1"/],
    ['unknown target', ['build', '--dry-run', '--offline', '--target', 'nope', '.'], 1, /target stage "nope" could not be found in Dockerfile \(stages: build\)/],
    ['secret file missing', ['build', '--dry-run', '--secret', 'id=tok,src=/nonexistent/tok', '.'], 2, /--secret id=tok: file \/nonexistent\/tok does not exist/],
    ['bad format', ['build', '--dry-run', '--format', 'yaml', '.'], 2, /invalid --format "yaml"/],
    ['unknown command', ['bogus'], 2, /unknown command "bogus". See 'dockyard --help'/],
  ];
  for (const [name, argv, status, what] of flagCases) {
    it(name, () => {
      const dir = makeDir({ Dockerfile: 'FROM busybox AS build\n' });
      const r = runCli(argv, { cwd: dir });
      check(r, /^error: /, what);
      assert.equal(r.status, status);
    });
  }
});
