// The unplugged cable: frames sent are counted and discarded, nothing is ever received.

import { BackendBase } from '../net-backend.js';

export class NullBackend extends BackendBase {
  readonly description = 'none';
  constructor() {
    super();
    this.link = false;
  }
  send(frame: Uint8Array): void {
    if (!this.acceptOutgoing(frame)) return;
    this.stats.txDropped++;
  }
  async close(): Promise<void> { /* nothing to release */ }
}
