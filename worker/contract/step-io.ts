import type { LayerRecord } from '../../cache/cache-index.js';
import type { Digest } from '../../oci/digest.js';

/**
 * A step's inputs and result in the form that crosses the wire: by digest, never by host path or
 * promise. The solver turns today's StepInput (`local`: a host directory) into `files` (the
 * directory's selected entries, their contents uploaded to the Content service), and settles pending
 * layers before it sends a result.
 */

/** One path of a file tree; the bytes of a `file` are in the Content service under `digest`. */
export interface TreeEntry {
  /** Slash-separated, relative to the tree's root, no leading `./`. */
  path: string;
  type: 'file' | 'dir' | 'symlink';
  /** Permission bits, setuid, setgid and sticky included. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** A file's content digest. */
  digest?: Digest;
  /** A symlink's target. */
  linkTarget?: string;
}

export type RemoteStepInput =
  /** The input step's filesystem, base layer first. */
  | { type: 'rootfs'; layers: LayerRecord[] }
  /**
   * Files read by content: a local context's selection, a git checkout, or an ADD URL's one file
   * (named as the URL's last segment, mode 0600). `checksum` identifies the whole tree.
   */
  | { type: 'files'; origin: 'context' | 'git' | 'url'; checksum: Digest; entries: TreeEntry[] };

/** A step's result once every layer's blob is stored: what a remote worker reports. */
export interface SettledStepOutput {
  layers: LayerRecord[];
  emptyLayer: boolean;
}
