// Registers every instruction family in the instruction table (side-effect imports).
import './integer/index.js';
import './system/index.js';
import './sse/index.js';
import './x87/index.js';
