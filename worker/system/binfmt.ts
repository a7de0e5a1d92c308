import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostPlatform } from '../../oci/platform.js';
import { runCommand } from './command.js';

const BINFMT = '/proc/sys/fs/binfmt_misc';

/** ELF magic and mask per QEMU target, as qemu's binfmt configuration registers them. */
const targets: Record<string, { qemu: string; magic: string; mask: string }> = {
  arm64: {
    qemu: 'aarch64',
    magic: '\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff',
  },
  arm: {
    qemu: 'arm',
    magic: '\\x7fELF\\x01\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x28\\x00',
    mask: '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff',
  },
};

export class EmulatorError extends Error {}

/**
 * Makes sure binaries of `platform` can run here: nothing to do for the host's own architecture;
 * otherwise a qemu-user-static handler in binfmt_misc, registered as Debian registers it: the F flag
 * (the interpreter is opened now, so it works inside containers that do not have it), and P and O
 * with Debian's argv[0]-preserving wrapper when it is there.
 */
export async function ensureEmulator(platform: string): Promise<void> {
  const arch = platform.split('/')[1] ?? '';
  if (arch === hostPlatform().architecture) return;
  const t = targets[arch];
  const hint = 'install qemu-user-static (bash scripts/setup.sh does)';
  if (!t) throw new EmulatorError(`cannot run ${platform} steps on this ${hostPlatform().architecture} machine: no emulator is known for ${arch}`);
  if (!existsSync(`${BINFMT}/status`)) await runCommand('mount', ['-t', 'binfmt_misc', 'binfmt_misc', BINFMT], { check: false });
  const handler = `${BINFMT}/qemu-${t.qemu}`;
  if (existsSync(handler)) {
    if (readFileSync(handler, 'utf8').startsWith('enabled')) return;
    throw new EmulatorError(`cannot run ${platform} steps: the binfmt_misc handler qemu-${t.qemu} is disabled (echo 1 > ${handler})`);
  }
  const interpreter = `/usr/bin/qemu-${t.qemu}-static`;
  if (!existsSync(interpreter)) throw new EmulatorError(`cannot run ${platform} steps: no emulator for ${arch} (${interpreter} is missing): ${hint}`);
  // Debian's wrapper takes argv[0] as the P flag passes it: without it, a multi-call binary that
  // re-executes itself under another name (busybox's shell running `wc`) runs as the wrong program.
  const wrapper = `/usr/libexec/qemu-binfmt/${t.qemu}-binfmt-P`;
  const [path, flags] = existsSync(wrapper) ? [wrapper, 'POF'] : [interpreter, 'F'];
  try {
    writeFileSync(`${BINFMT}/register`, `:qemu-${t.qemu}:M::${t.magic}:${t.mask}:${path}:${flags}`);
  } catch (err) {
    if (!existsSync(handler)) throw new EmulatorError(`cannot run ${platform} steps: registering ${interpreter} in binfmt_misc failed (${(err as Error).message}); run as root`);
  }
}

/**
 * The foreign platforms this machine can run steps of: those whose qemu-user-static interpreter is
 * installed (ensureEmulator registers it on first use) or whose binfmt_misc handler is enabled.
 */
export function emulatedPlatforms(): string[] {
  const host = hostPlatform().architecture;
  const out: string[] = [];
  for (const [arch, t] of Object.entries(targets)) {
    if (arch === host) continue;
    const handler = `${BINFMT}/qemu-${t.qemu}`;
    const enabled = existsSync(handler) && readFileSync(handler, 'utf8').startsWith('enabled');
    if (enabled || existsSync(`/usr/bin/qemu-${t.qemu}-static`)) out.push(arch === 'arm' ? 'linux/arm/v7' : `linux/${arch}`);
  }
  return out;
}
