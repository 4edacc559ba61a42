// Deliberate, repeatable frame loss for a LAN segment: the product hub (`parallax-emu hub
// --loss 1% --loss-seed N`) and the test LAN (test/dime/lan.ts) lose deliveries with one
// seeded generator, so a lossy run can be repeated exactly and every loss is counted.

/** mulberry32: a small seeded generator */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface LanLoss {
  /** probability that one delivery (one copy of a frame to one port) is lost */
  rate: number;
  seed: number;
}

/** "1%", "0.5 %", "0.01" -> a rate in [0, 1) */
export function parseLossRate(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text);
  const rate = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`loss '${text}': expected a rate below 100 %, e.g. 1% or 0.01`);
  return rate;
}

export class SeededLoss {
  private random: () => number;
  /** deliveries lost on purpose */
  lost = 0;
  /** deliveries that could have been lost (counted while the rate is above 0) */
  trials = 0;

  constructor(private loss: LanLoss = { rate: 0, seed: 1 }) {
    this.random = seededRandom(loss.seed);
    this.set(loss);
  }

  /** A new rate and seed (the generator restarts from the seed; the counters go on). */
  set(loss: LanLoss): void {
    if (!(loss.rate >= 0 && loss.rate < 1)) throw new RangeError(`loss rate ${loss.rate} is not in [0, 1)`);
    this.loss = loss;
    this.random = seededRandom(loss.seed);
  }

  get rate(): number {
    return this.loss.rate;
  }

  /** Whether this delivery is lost. */
  lose(): boolean {
    if (this.loss.rate === 0) return false;
    this.trials++;
    if (this.random() >= this.loss.rate) return false;
    this.lost++;
    return true;
  }
}
