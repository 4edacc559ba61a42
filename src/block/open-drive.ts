// Open the backend a -drive asks for: a raw file, read-only or not, under an in-memory overlay
// for snapshot=on.

import { closeSync, openSync, readSync } from 'node:fs';
import { BlockIoError, type BlockBackend } from './block-backend.js';
import { OverlayBackend } from './overlay.js';
import { RawFileBackend } from './raw-file.js';

export interface DriveBackendSpec {
  file: string;
  readOnly: boolean;
  snapshot: boolean;
  /** format=raw was given: no probing (QEMU probes, and so do we, only to refuse a qcow2 image) */
  formatGiven?: boolean;
}

const QCOW_MAGIC = 0x514649fb; // "QFI\xfb"

/** The first 4 bytes of a file as a big-endian number (0 when shorter or unreadable: the open reports why). */
function magic(path: string): number {
  try {
    const fd = openSync(path, 'r');
    try {
      const b = Buffer.alloc(4);
      return readSync(fd, b, 0, 4, 0) === 4 ? b.readUInt32BE(0) : 0;
    } finally {
      closeSync(fd);
    }
  } catch {
    return 0;
  }
}

export function openDriveBackend(spec: DriveBackendSpec): BlockBackend {
  if (!spec.formatGiven && magic(spec.file) === QCOW_MAGIC) {
    throw new BlockIoError(`'${spec.file}' is a qcow2 image: only raw images are supported (qemu-img convert -O raw)`);
  }
  // snapshot=on never writes the file, so it is opened read-only (it may be read-only on the host)
  const raw = new RawFileBackend(spec.file, spec.readOnly || spec.snapshot);
  if (!spec.snapshot) return raw;
  return new OverlayBackend(raw, spec.readOnly);
}
