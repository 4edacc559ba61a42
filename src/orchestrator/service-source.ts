// What `load SERVICE` means: a service built into the DIME kernel (by name), or a service
// image file sent over the data channel. Files are checked before anything is sent: a file
// that is not a DSV1 service image is refused with the reason.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { crc32, parseServiceImage } from '../protocol/codec.js';
import * as W from '../protocol/wire.js';
import { UsageError } from './errors.js';

export type ServiceSource =
  | { kind: 'builtin'; name: string }
  | { kind: 'file'; name: string; path: string; image: Buffer; crc32: number };

/** The kernel keeps at most 15 bytes of a service name (str16). */
const NAME_MAX = 15;
/** Largest image we accept: the DIME memory limit is 512 chunks of 2 MiB. */
const IMAGE_MAX = 512 * W.SERVICE_IMAGE.chunkSize;

function looksLikePath(s: string): boolean {
  return s.includes('/') || s.includes('\\') || /\.(bin|img|dsv)$/i.test(s);
}

/** Check a service image; returns the reason it is not one, or null. */
export function serviceImageProblem(img: Buffer): string | null {
  const h = parseServiceImage(img);
  if (!h) {
    return img.length < W.SERVICE_IMAGE.headerLen
      ? `too short for a service header (${img.length} bytes, need ${W.SERVICE_IMAGE.headerLen})`
      : `no DSV1 service header (magic 0x${img.readUInt32LE(0).toString(16).padStart(8, '0')}, expected 0x${W.SERVICE_IMAGE.magic.toString(16)})`;
  }
  if (img.readUInt32LE(4) !== W.SERVICE_IMAGE.headerLen) return `header length ${img.readUInt32LE(4)} is not ${W.SERVICE_IMAGE.headerLen}`;
  if (h.imageLen !== img.length) return `header says ${h.imageLen} image bytes, the file has ${img.length}`;
  if (h.memLen < h.imageLen) return `memory size ${h.memLen} is smaller than the image (${h.imageLen})`;
  const base = BigInt(W.SERVICE_IMAGE.userBase);
  if (h.entry < base + BigInt(W.SERVICE_IMAGE.headerLen) || h.entry >= base + BigInt(h.imageLen)) {
    return `entry point 0x${h.entry.toString(16)} is outside the image`;
  }
  return null;
}

/**
 * Resolve a SERVICE argument: an existing file (or anything that looks like a path) is an
 * image file; otherwise a built-in service name. `baseDir` resolves relative paths (workflow files).
 */
export function resolveService(arg: string, opts: { baseDir?: string; name?: string } = {}): ServiceSource {
  if (!arg) throw new UsageError('empty service name');
  const candidate = path.resolve(opts.baseDir ?? process.cwd(), arg);
  let isFile = false;
  try {
    isFile = statSync(candidate).isFile();
  } catch {
    isFile = false;
  }
  if (!isFile && looksLikePath(arg)) throw new UsageError(`service file '${arg}' not found`);
  if (!isFile) {
    if (!/^[A-Za-z0-9_.-]+$/.test(arg) || arg.length > NAME_MAX) {
      throw new UsageError(`'${arg}' is neither a service file nor a built-in service name (1-${NAME_MAX} of A-Z a-z 0-9 _ . -)`);
    }
    return { kind: 'builtin', name: arg };
  }
  const size = statSync(candidate).size;
  if (size > IMAGE_MAX) throw new UsageError(`'${arg}' is not a service image: ${size} bytes is more than a DIME can hold`);
  const image = readFileSync(candidate);
  const problem = serviceImageProblem(image);
  if (problem) throw new UsageError(`'${arg}' is not a service image: ${problem}`);
  const name = (opts.name ?? path.basename(candidate).replace(/\.[^.]*$/, '')).slice(0, NAME_MAX);
  return { kind: 'file', name, path: candidate, image, crc32: crc32(image) };
}

/** How to describe a source again (state file, workflow records). */
export function sourceSpec(s: ServiceSource): string {
  return s.kind === 'builtin' ? s.name : s.path;
}
