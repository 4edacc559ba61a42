// Instruction forms of this family register themselves in the table (see ../../optable.ts).
export {};
