// The emulator's snippet-runner contract (src/cpu/snippet.ts), restated here so the oracle
// type-checks and runs before that file exists. Keep in step with the brief that defines it.

export const SNIPPET_CODE_BASE = 0x4000_0000;
export const SNIPPET_DATA_BASE = 0x5000_0000;
export const SNIPPET_DATA_SIZE = 0x10000;

export interface SnippetState {
  /** 16 entries, RAX RCX RDX RBX RSP RBP RSI RDI R8..R15 (unsigned 64-bit) */
  gpr: bigint[];
  /** low 32 bits of RFLAGS */
  rflags: number;
  /** 16 x 128-bit, unsigned; present for SSE cases */
  xmm?: bigint[];
}

export interface SnippetCase {
  /** instruction bytes, ending with 0xCC (int3) */
  code: Uint8Array;
  init: SnippetState;
  /** initial contents of the data window (length SNIPPET_DATA_SIZE) */
  data: Uint8Array;
  mxcsr?: number;
}

export type SnippetFault = 'DE' | 'UD' | 'GP' | 'PF' | 'SS' | 'BR' | 'AC' | 'XM' | 'MF';

export interface SnippetResult {
  final: SnippetState;
  data: Uint8Array;
  fault?: SnippetFault;
}

export type RunSnippets = (cases: SnippetCase[]) => SnippetResult[];
