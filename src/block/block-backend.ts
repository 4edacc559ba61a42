// The interface between a block device model (src/devices/virtio-blk) and whatever holds its
// sectors: a raw image file, an in-memory overlay over one (`snapshot=on`). As src/net is to the
// NIC, this layer knows nothing of the machine. Everything runs on the I/O thread and is
// synchronous: a request completes before the notify write that started it returns, so
// -icount runs see the same completions at the same instructions.

/** Sector size of the virtio-blk wire format (the `sector` field counts these). */
export const SECTOR_SIZE = 512;

export interface BlockBackendStats {
  reads: number;
  readBytes: number;
  writes: number;
  writeBytes: number;
  flushes: number;
  /** host I/O calls that failed (the guest got VIRTIO_BLK_S_IOERR) */
  errors: number;
}

export function emptyBlockStats(): BlockBackendStats {
  return { reads: 0, readBytes: 0, writes: 0, writeBytes: 0, flushes: 0, errors: 0 };
}

export interface BlockBackend {
  /** what the disk is (for messages and `info block`) */
  readonly description: string;
  /** size in bytes, a multiple of SECTOR_SIZE (a raw file's tail beyond that is not exposed) */
  readonly sizeBytes: number;
  /** writes are refused (readonly=on) */
  readonly readOnly: boolean;
  readonly stats: BlockBackendStats;
  /** fill `dst` from byte `offset`; offset and length are sector multiples inside sizeBytes */
  read(offset: number, dst: Uint8Array): void;
  /** store `src` at byte `offset` (same rules); throws on a read-only backend */
  write(offset: number, src: Uint8Array): void;
  /** make every completed write durable (fsync for a file) */
  flush(): void;
  close(): void;
  /** contents that live only in this process (an overlay), for a machine snapshot */
  saveState(): unknown;
  restoreState(state: unknown): void;
}

/** An I/O error the device reports to the guest (VIRTIO_BLK_S_IOERR), never a crash. */
export class BlockIoError extends Error {}

/** Check a request against the disk: whole sectors, inside the disk. */
export function checkRange(b: { sizeBytes: number; description: string }, offset: number, length: number): void {
  if (offset % SECTOR_SIZE !== 0 || length % SECTOR_SIZE !== 0 || offset < 0 || offset + length > b.sizeBytes) {
    throw new BlockIoError(`${b.description}: request ${offset}+${length} is outside the disk (${b.sizeBytes} bytes) or not whole sectors`);
  }
}
