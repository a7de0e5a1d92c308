import type { BuildSummary__Output } from '../proto/generated/dockyard/v1/BuildSummary.js';
import { call, connectBuilder } from './builder-client.js';
import { parseCommandArgs, UsageError } from './errors.js';
import { escapeControls } from './escape-controls.js';
import { farmClientHelp, farmClientOptions, tlsFiles } from './farm-client-flags.js';

export const queueHelp = `Usage: dockyard queue ls|inspect ID|cancel ID --builder HOST:PORT [OPTIONS]

Show and change the build farm's queue.

Commands:
  ls            Builds waiting and running (--all: finished ones too)
  inspect ID    One build's state and result, as JSON
  cancel ID     Cancel a build: a waiting one leaves the queue, a running one stops

Options:
      --all                  ls: also builds that ended
${farmClientHelp}  -h, --help                 Show this help
`;

const options = {
  all: { type: 'boolean' },
  ...farmClientOptions,
  help: { type: 'boolean', short: 'h' },
} as const;

const stateName = (s: BuildSummary__Output['state']): string => String(s).replace(/^BUILD_STATE_/, '').toLowerCase();

function table(builds: BuildSummary__Output[]): string {
  const rows = [['BUILD ID', 'STATE', 'TENANT', 'PRIORITY', 'STEPS', 'DOCKERFILE', 'SUBMITTED']];
  for (const b of builds) rows.push([b.buildId, stateName(b.state), b.tenant, String(b.priority), String(b.stepsDone), escapeControls(b.dockerfileName), new Date(b.submittedUnixMs).toISOString()]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

/** `dockyard queue`. Returns the exit code. */
export async function queueCommand(argv: string[], out: NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values, positionals } = parseCommandArgs('queue', { args: argv, options, strict: true, allowPositionals: true });
  if (values.help || positionals.length === 0) return out.write(queueHelp), values.help ? 0 : 2;
  const [sub, id, ...extra] = positionals;
  if (sub !== 'ls' && sub !== 'inspect' && sub !== 'cancel') throw new UsageError(`unknown queue command ${JSON.stringify(sub)}: use ls, inspect ID or cancel ID`);
  if (sub === 'ls' ? id !== undefined : id === undefined || extra.length > 0) throw new UsageError(sub === 'ls' ? '"dockyard queue ls" takes no argument' : `"dockyard queue ${sub}" takes exactly one build ID`);
  const builder = values.builder ?? (env.DOCKYARD_BUILDER || undefined);
  if (!builder) throw new UsageError(`--builder HOST:PORT (or DOCKYARD_BUILDER) is required. See 'dockyard queue --help'`);
  const b = await connectBuilder(builder, { ...(values['token-file'] !== undefined ? { tokenFile: values['token-file'] } : {}), tls: tlsFiles(values), env });
  try {
    if (sub === 'ls') {
      const res = await call(b, b.client.ListQueue, { all: values.all === true });
      out.write(table(res.builds));
    } else if (sub === 'inspect') {
      const info = await call(b, b.client.Inspect, { buildId: id! });
      out.write(JSON.stringify(info, null, 2) + '\n');
    } else {
      const res = await call(b, b.client.Cancel, { buildId: id! });
      out.write(res.cancelled ? `cancelled ${id}\n` : `${id} had already ended\n`);
    }
    return 0;
  } finally {
    b.client.close();
  }
}
