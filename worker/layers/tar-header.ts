/**
 * POSIX ustar headers and pax records, as layer tars carry them. The bytes follow the same conventions
 * as tar-stream's encoder (which the extractor side and older layers used), so a layer's digest does
 * not depend on which of the two wrote it: octal fields zero-padded and ended by a space, names longer
 * than 100 bytes split into prefix and name at a '/', sizes past 11 octal digits in base-256.
 */

export type TarHeaderType = 'file' | 'link' | 'symlink' | 'character-device' | 'block-device' | 'directory' | 'fifo' | 'contiguous-file' | 'pax-header';

export interface TarHeaderFields {
  name: string;
  type: TarHeaderType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: Date;
  linkname?: string;
  uname: string;
  gname: string;
  devmajor?: number;
  devminor?: number;
}

const TYPEFLAG: Record<TarHeaderType, number> = {
  file: 0,
  link: 1,
  symlink: 2,
  'character-device': 3,
  'block-device': 4,
  directory: 5,
  fifo: 6,
  'contiguous-file': 7,
  'pax-header': 72, // 'x'
};

/** `n` octal digits and a space; all sevens when the value does not fit. */
function octal(value: number, n: number): string {
  const digits = value.toString(8);
  return digits.length > n ? '7'.repeat(n) + ' ' : digits.padStart(n, '0') + ' ';
}

const isAscii = (s: string): boolean => Buffer.byteLength(s) === s.length;

/** The 512-byte header, or null when the name or link needs a pax record (non-ASCII, or too long). */
export function encodeTarHeader(h: TarHeaderFields): Buffer | null {
  let name = h.name;
  let prefix = '';
  if (!isAscii(name)) return null;
  while (name.length > 100) {
    const slash = name.indexOf('/');
    if (slash === -1) return null;
    prefix += (prefix ? '/' : '') + name.slice(0, slash);
    name = name.slice(slash + 1);
  }
  if (prefix.length > 155) return null;
  if (h.linkname && Buffer.byteLength(h.linkname) > 100) return null;
  const buf = Buffer.alloc(512);
  buf.write(name, 0);
  buf.write(octal(h.mode & 0o7777, 6), 100);
  buf.write(octal(h.uid, 6), 108);
  buf.write(octal(h.gid, 6), 116);
  if (h.size.toString(8).length > 11) {
    // base-256: a leading 0x80, then the value big-endian in the field's other 11 bytes
    buf[124] = 0x80;
    let v = h.size;
    for (let i = 11; i > 0; i--) {
      buf[124 + i] = v & 0xff;
      v = Math.floor(v / 0x100);
    }
  } else buf.write(octal(h.size, 11), 124);
  buf.write(octal(Math.trunc(h.mtime.getTime() / 1000), 11), 136);
  buf[156] = 0x30 + TYPEFLAG[h.type];
  if (h.linkname) buf.write(h.linkname, 157);
  buf.write('ustar\0', 257, 'binary');
  buf.write('00', 263);
  if (h.uname) buf.write(h.uname, 265);
  if (h.gname) buf.write(h.gname, 297);
  buf.write(octal(h.devmajor ?? 0, 6), 329);
  buf.write(octal(h.devminor ?? 0, 6), 337);
  if (prefix) buf.write(prefix, 345);
  // The checksum counts its own field as eight spaces.
  let sum = 8 * 0x20;
  for (let i = 0; i < 148; i++) sum += buf[i]!;
  for (let i = 156; i < 512; i++) sum += buf[i]!;
  buf.write(octal(sum, 6), 148);
  return buf;
}

/** One pax record, `LENGTH key=value\n`, where LENGTH counts the whole record, itself included. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const len = Buffer.byteLength(body);
  let digits = String(len).length;
  if (len + digits >= 10 ** digits) digits++;
  return `${len + digits}${body}`;
}

/** The pax extended header's body for a long or non-ASCII name and link. */
export function encodePax(o: { name: string; linkname?: string }): Buffer {
  return Buffer.from(paxRecord('path', o.name) + (o.linkname ? paxRecord('linkpath', o.linkname) : ''));
}
