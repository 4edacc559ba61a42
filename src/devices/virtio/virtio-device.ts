// What a virtio device type (block, and later others) gives the transport: its type number,
// its queues, its feature bits, its configuration space and what to do when the driver
// notifies a queue. The transport (virtio-pci.ts) owns everything the specification keeps
// common: status, feature negotiation, queue set-up, interrupts.

import type { Virtqueue } from './virtqueue.js';

// device status bits (virtio 1.x, 2.1)
export const STATUS_ACKNOWLEDGE = 1;
export const STATUS_DRIVER = 2;
export const STATUS_DRIVER_OK = 4;
export const STATUS_FEATURES_OK = 8;
export const STATUS_DEVICE_NEEDS_RESET = 64;
export const STATUS_FAILED = 128;

// feature bits the transport itself deals in (6)
export const VIRTIO_RING_F_INDIRECT_DESC = 28n;
export const VIRTIO_RING_F_EVENT_IDX = 29n;
export const VIRTIO_F_VERSION_1 = 32n;

export const bit = (n: bigint): bigint => 1n << n;

export interface VirtioDeviceModel {
  /** virtio device type (2 = block); the PCI device ID is 0x1040 + this */
  readonly deviceType: number;
  /** the largest size of each queue (their count is the length) */
  readonly queueMaxSizes: readonly number[];
  /** device-type feature bits offered (the transport adds VERSION_1 and INDIRECT_DESC) */
  deviceFeatures(): bigint;
  /** bytes of the device-specific configuration space */
  readonly configSize: number;
  /** read `size` bytes (1, 2, 4) at `offset` of the configuration space, little-endian */
  readConfig(offset: number, size: number): number;
  writeConfig(offset: number, size: number, value: number): void;
  /** features the driver accepted, once FEATURES_OK is set */
  featuresAccepted(features: bigint): void;
  /** the driver made buffers available on `queue` (the transport checked DRIVER_OK and queue readiness) */
  queueNotify(index: number, queue: Virtqueue): void;
  /** the driver reset the device (status 0) */
  reset(): void;
}
