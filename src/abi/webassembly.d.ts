// The part of the WebAssembly JS API the translator uses (Node 20 has it; the project's
// TypeScript libs, without DOM, do not declare it).
declare namespace WebAssembly {
  interface MemoryDescriptor { initial: number; maximum?: number; shared?: boolean }
  class Memory {
    constructor(d: MemoryDescriptor);
    readonly buffer: ArrayBuffer | SharedArrayBuffer;
  }
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(m: Module, imports: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  interface TableDescriptor { element: 'anyfunc'; initial: number; maximum?: number }
  class Table {
    constructor(d: TableDescriptor);
    readonly length: number;
    grow(delta: number): number;
    set(index: number, fn: unknown): void;
  }
  function validate(bytes: Uint8Array): boolean;
}
