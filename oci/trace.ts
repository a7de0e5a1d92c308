/**
 * `DOCKYARD_TRACE=1`: one stderr line per phase of a build (planning, each step's mount, copy, tar,
 * the export), stamped with milliseconds since the process started, for finding where time goes
 * (bench/README.md). Off, it costs one environment lookup.
 */
export function trace(label: string): void {
  if (process.env.DOCKYARD_TRACE) process.stderr.write(`[trace ${performance.now().toFixed(0).padStart(6)}] ${label}\n`);
}
