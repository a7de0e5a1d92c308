import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { repoRoot, runCli } from './helpers.js';

const deployDir = join(repoRoot, 'deploy');

/** The flags `dockyard COMMAND --help` documents. */
const helpFlags = new Map<string, Set<string>>();
function flagsOf(command: string): Set<string> {
  let flags = helpFlags.get(command);
  if (!flags) {
    const help = runCli([command, '--help']);
    assert.equal(help.status, 0, `dockyard ${command} --help failed: ${help.stderr}`);
    flags = new Set(help.stdout.match(/--[a-z][a-z0-9-]*/g) ?? []);
    helpFlags.set(command, flags);
  }
  return flags;
}

/** Every `--flag` of a `dockyard COMMAND ...` invocation is one that command has. */
function assertInvocation(argv: string[], where: string): void {
  const [command, ...rest] = argv;
  assert.ok(command && !command.startsWith('-'), `${where}: no dockyard command in ${argv.join(' ')}`);
  const known = flagsOf(command);
  for (const arg of rest) {
    if (!arg.startsWith('--')) continue;
    const flag = arg.split('=')[0]!;
    assert.ok(known.has(flag), `${where}: dockyard ${command} has no flag ${flag}`);
  }
}

interface Container {
  name: string;
  command?: string[];
  args?: string[];
}

function containersOf(doc: Record<string, unknown>): Container[] {
  const spec = (doc.spec as { template?: { spec?: { containers?: Container[] } } } | undefined)?.template?.spec;
  return spec?.containers ?? [];
}

describe('deployment manifests', () => {
  const manifests = readdirSync(join(deployDir, 'kubernetes')).filter((f) => f.endsWith('.yaml'));

  it('are valid Kubernetes YAML that runs both roles, Redis with AOF and the token as a Secret', () => {
    const kinds: string[] = [];
    const roles = new Set<string>();
    for (const file of manifests) {
      for (const parsed of parseAllDocuments(readFileSync(join(deployDir, 'kubernetes', file), 'utf8'))) {
        assert.deepEqual(parsed.errors, [], `${file}: ${parsed.errors.join('; ')}`);
        const doc = parsed.toJS() as Record<string, unknown>;
        assert.ok(typeof doc.apiVersion === 'string' && typeof doc.kind === 'string', `${file}: a document without apiVersion or kind`);
        assert.ok((doc.metadata as { name?: string })?.name, `${file}: a ${doc.kind} without a name`);
        kinds.push(doc.kind as string);
        for (const c of containersOf(doc)) {
          if (c.command?.[0] !== 'dockyard') continue;
          assertInvocation([...c.command.slice(1), ...(c.args ?? [])], `${file} (${c.name})`);
          roles.add((c.args ?? [])[0]!);
        }
        if (doc.kind === 'ConfigMap') assert.match(JSON.stringify(doc.data), /appendonly yes/, `${file}: Redis without AOF`);
      }
    }
    for (const kind of ['Deployment', 'Service', 'DaemonSet', 'StatefulSet', 'Secret', 'ConfigMap']) assert.ok(kinds.includes(kind), `no ${kind} in deploy/kubernetes`);
    assert.deepEqual([...roles].sort(), ['coordinator', 'worker']);
  });

  it('systemd units start dockyard with flags the CLI has', () => {
    const units = readdirSync(join(deployDir, 'systemd')).filter((f) => f.endsWith('.service'));
    assert.deepEqual(units.sort(), ['dockyard-coordinator.service', 'dockyard-worker.service']);
    for (const unit of units) {
      const text = readFileSync(join(deployDir, 'systemd', unit), 'utf8').replace(/\\\n\s*/g, ' ');
      for (const section of ['[Unit]', '[Service]', '[Install]']) assert.ok(text.includes(section), `${unit}: no ${section}`);
      const exec = /^ExecStart=(\S+) (.*)$/m.exec(text);
      assert.ok(exec, `${unit}: no ExecStart`);
      assert.match(exec[1]!, /\/dockyard$/);
      assertInvocation(exec[2]!.trim().split(/\s+/), unit);
    }
  });
});
