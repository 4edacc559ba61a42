// Where the repository is, from bench/ (tsx, vitest) or dist/bench/ (built): the launcher's answer.
import { repoRoot as findRoot } from '../../src/orchestrator/launcher.js';

export const repoRoot = findRoot();
