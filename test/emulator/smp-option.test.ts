// QEMU's -smp spellings (BareMetal OS's baremetal.sh uses `-smp sockets=1,cpus=4`).
import { describe, expect, it } from 'vitest';
import { parseCores } from '../../src/cli/options.js';

describe('-smp / --cores', () => {
  it.each([
    ['4', 4], ['cpus=4', 4], ['sockets=1,cpus=4', 4], ['4,sockets=1', 4], ['4,sockets=2,cores=2,threads=1', 4],
    ['cores=4', 4], ['sockets=2,cores=3', 6], ['maxcpus=8', 8], ['8,maxcpus=8', 8], ['2,dies=1,clusters=1', 2], ['255', 255],
  ])('%s -> %d cores', (text, n) => {
    expect(parseCores(text)).toBe(n);
  });

  it.each([
    ['0', /must be at least 1/], ['256', /from 1 to 255/], ['x', /not a whole number/], ['4,foo=1', /unknown -smp key "foo"/],
    ['4,maxcpus=8', /no CPU hotplug/], ['4,threads=2', /threads must be 1/], ['4,sockets=2,cores=1,threads=1', /product 2 does not match 4/],
    ['6,sockets=4', /product 4 does not match 6/], ['4,2', /not key=value/], ['cpus=4,cpus=2', /given twice/],
  ])('%s is refused', (text, re) => {
    expect(() => parseCores(text)).toThrow(re);
  });
});
