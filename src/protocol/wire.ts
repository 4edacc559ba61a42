// The Parallax wire format: the single source of truth for every frame the DIME kernel,
// the test client and the orchestrator exchange. `gen-c-header.ts` turns this table into
// src/dime/include/protocol.h; `codec.ts` encodes and decodes with it; docs/PROTOCOL.md
// explains it. Change the protocol here, then regenerate the header.
//
// Frame = Ethernet header (dst MAC, src MAC, EtherType) + Parallax header + payload + tag.
// The EtherType itself carries the channel (signaling / data), the scope (whole system /
// one DIME) and the instruction type, as the Parallax papers describe:
//
//   EtherType = base | C<<7 | S<<6 | type      base: a 256-value block (low byte zero)
//     C = 0 signaling, 1 data     S = 0 whole system, 1 one DIME     type: 1..63
//
// All multi-byte fields are big-endian (network order).

/** Default EtherType block; configurable (kernel `etherbase=`, codec option). See PROTOCOL.md. */
export const ETHERTYPE_BASE_DEFAULT = 0xab00;
export const ETHERTYPE_BLOCK_MASK = 0xff00;
export const ET_CHANNEL_DATA = 0x80;
export const ET_SCOPE_DIME = 0x40;
export const ET_TYPE_MASK = 0x3f;

/** 3: numbered pipeline lines (STREAM_SEQ / STREAM_ACK) and their drop counters in QUERY_SECURITY;
 * 5: central storage and network boot; 6: the name-service fleet (NAME_*) and collective launch */
export const PROTOCOL_VERSION = 6;
export const ETH_HEADER_LEN = 14;
export const TAG_LEN = 32; // HMAC-SHA256
/** Largest Ethernet frame we send or accept (no FCS, no VLAN tag). */
export const MAX_FRAME_LEN = 1514;

/** srcCore/dstCore value naming "not a DIME": the orchestrator, or every DIME of a server. */
export const CORE_NONE = 0xffff;

export type Scalar = 'u8' | 'u16' | 'u32' | 'u64' | 'i32' | 'mac';
export type FieldType = Scalar | { str: number } | { bytes: number } | 'rest';
export interface FieldDef {
  name: string;
  type: FieldType;
  doc: string;
}
export interface Layout {
  fields: FieldDef[];
  /** repeated fixed-size records filling the rest of the payload */
  records?: FieldDef[];
}

export const HEADER: Layout = {
  fields: [
    { name: 'version', type: 'u8', doc: 'PROTOCOL_VERSION' },
    { name: 'flags', type: 'u8', doc: 'FLAG_* bits' },
    { name: 'dstCore', type: 'u16', doc: 'destination DIME (core) on the destination server; CORE_NONE = orchestrator / every DIME' },
    { name: 'srcCore', type: 'u16', doc: 'sending DIME; CORE_NONE = orchestrator' },
    { name: 'length', type: 'u16', doc: 'payload bytes (the tag follows the payload)' },
    { name: 'seq', type: 'u64', doc: 'per-sender sequence number, strictly increasing (replay protection)' },
    { name: 'reqId', type: 'u32', doc: 'request id chosen by the requester, echoed in the response' },
    { name: 'status', type: 'u16', doc: 'STATUS_* in responses, 0 otherwise' },
    { name: 'instance', type: 'u16', doc: 'sender instance: each orchestrator process picks its own (random, nonzero), so processes sharing a MAC have separate sequence spaces; DIMEs send 0' },
    { name: 'epoch', type: 'u64', doc: "freshness: the sending server's boot epoch in frames a server sends; the destination server's epoch (as learnt) in commands; 0 = not known yet" },
  ],
};

export const FLAGS = {
  RESPONSE: 0x01, // answer to a request (reqId echoes it)
  EVENT: 0x02, // unsolicited report (heartbeat, performance, alarm, service exit)
} as const;

export const STATUS = {
  OK: 0,
  BAD_STATE: 1, // not allowed in the DIME's current state
  NO_MEMORY: 2, // memory limit or chunk pool exhausted
  BAD_CHECKSUM: 3, // loaded image does not match its CRC-32
  OUT_OF_RANGE: 4, // offset/size/interval/index outside what is allowed
  NOT_FOUND: 5, // no such built-in service / parameter
  MALFORMED: 6, // payload too short or inconsistent
  UNAUTHORIZED: 7, // sender may not do this (never sent for forged/replayed frames: those are dropped)
  BAD_IMAGE: 8, // service image header invalid
  UNSUPPORTED: 9, // unknown instruction type or wrong scope
  STALE_EPOCH: 10, // not executed: the command carried another epoch; the answer's header carries the current one
} as const;

/** DIME states as reported by DISCOVER / HEARTBEAT / PERF */
export const STATE = {
  IDLE: 0,
  LOADING: 1, // image transfer in progress
  LOADED: 2, // image complete and verified, not started
  RUNNING: 3,
  SUSPENDED: 4,
} as const;

/** I/O route kinds (SET_ROUTE.kind) */
export const ROUTE = {
  NONE: 0, // output discarded / no input accepted
  CONSOLE: 1, // the server's serial console
  DIME: 2, // a DIME: (mac, core); mac = this server's own MAC for local DIMEs
  ORCHESTRATOR: 3, // an orchestrator at mac (frames carry dstCore CORE_NONE)
  ANY: 4, // input only: accept data from any authenticated sender
} as const;
export const ROUTE_DIR = { OUTPUT: 0, INPUT: 1 } as const;

/** RESOURCE alarms report a refused service image: code = the STATUS_* it was refused with */
export const ALARM_KIND = { FAULT: 1, SECURITY: 2, RESOURCE: 3 } as const;
/** ALARM.code for SECURITY alarms (FAULT alarms carry the CPU exception vector) */
export const SECURITY_CODE = { FORGED: 1, REPLAYED: 2, UNAUTHORIZED: 3, MALFORMED: 4 } as const;
/** ALARM.detail of a SECURITY alarm with code MALFORMED: why the frame was dropped */
export const MALFORMED_REASON = {
  SHORT: 1, // shorter than Ethernet header + Parallax header + tag
  VERSION: 2, // unknown protocol version
  LENGTH: 3, // payload length beyond the frame, or above MAX_PAYLOAD
  NO_SUCH_DIME: 4, // DIME-scope frame for a core this server does not have
} as const;
/** STORE_GRANT.rights bits */
export const STORE_RIGHT = { READ: 0x01, WRITE: 0x02 } as const;
/** QUERY_STORAGE.store: the server's local file store */
export const STORE_STATE = {
  NONE: 0, // no virtio-blk disk
  READY: 1, // store mounted (or formatted on a blank disk)
  FOREIGN: 2, // the disk holds something else: left untouched
  ERROR: 3, // the disk failed to answer
} as const;
/** Central storage (CSTORE_*): bytes per READ/WRITE frame, and requests a DIME keeps in flight */
export const CSTORE_LIMITS = { chunk: 1024, window: 8 } as const;
/** STREAM_SEQ.lineFlags */
export const LINE_FLAGS = {
  RESTART: 0x01, // the sender (re)starts sending here: every earlier line of the stream was acknowledged to it
} as const;
/** Collectives (docs/COLLECTIVES.md, after STORM's primitives): what a COLL_START asks for */
export const COLL_KIND = { XFER: 1, CAW: 2, BARRIER: 3, LAUNCH_OPEN: 4, LAUNCH_STAGE: 5, LAUNCH_FINISH: 6 } as const;
/** The launch kinds (XFER-AND-SIGNAL of a service image in several blocks, docs/COLLECTIVES.md) reuse COLL_START's fields:
 *  LAUNCH_OPEN: value = size << 32 | crc32, block = name (16) + owner MAC (6); its op is the launch id.
 *  LAUNCH_STAGE: value = launch id, compare = image offset of the block. LAUNCH_FINISH: value = launch id. */
/** COLL_DOWN/COLL_UP.phase: one sweep down the tree of members and the answers back up */
export const COLL_PHASE = { PREPARE: 1, COMMIT: 2, ABORT: 3, COMPARE: 4, WRITE: 5, GATHER: 6, OPEN: 7, STAGE: 8, VERIFY: 9, START: 10, DISCARD: 11 } as const;
/** COMPARE-AND-WRITE: how the member's variable is compared with `compare` (var OP compare) */
export const COLL_CMP = { EQ: 0, NE: 1, LT: 2, GE: 3 } as const;
/** COLL_START answer: ABORTED (XFER: written nowhere; CAW/BARRIER: a member did not answer), DONE, FALSE (CAW: the comparison failed somewhere, nothing written) */
export const COLL_OUTCOME = { ABORTED: 0, DONE: 1, FALSE: 2 } as const;
/** Limits of the collective engine (the kernel's collectives.c has the same numbers) */
export const COLL_LIMITS = { maxMembers: 64, memBytes: 4096, vars: 8, events: 16, memberBytes: 8 } as const;
/** Name service fleet (docs/NAMES.md, after fos's fleets, paper 004): limits shared with the kernel's names.c */
/** NAME_RESOLVE.source: a member's replica, the kernel cache of a non-member, or a member asked by the kernel */
export const NAME_SOURCE = { REPLICA: 1, CACHE: 2, FLEET: 3 } as const;
export const NAME_LIMITS = { maxMembers: 16, maxNames: 64, nameBytes: 32, cacheTtlMs: 2000 } as const;

/**
 * Network boot (docs/BOOT.md, "Network boot"): the firmware's BOOT_REQUEST goes to this
 * multicast address (a NIC whose multicast filter is empty, as in a running DIME kernel, never
 * sees it); `chunk` = image bytes per BOOT_DATA frame; `firmwareVersion` = BOOT_REQUEST.firmware.
 */
export const BOOT = { multicastMac: '03:50:58:42:4f:54', chunk: 1024, window: 32, firmwareVersion: 1, maxCmdline: 256 } as const;

/** MIGRATE_OUT.mode (docs/MIGRATION.md) */
export const MIGRATE_MODE = { LOCAL: 1, EXPORT: 2 } as const;

/** SERVICE_EXIT.reason */
export const EXIT_REASON = { EXITED: 0, STOPPED: 1, FAULT: 2, RESET: 3 } as const;

/** Service image header (little-endian: it is read in place by x86 code), at offset 0 of an image. */
export const SERVICE_IMAGE = {
  magic: 0x31565344, // "DSV1"
  headerLen: 32,
  userBase: 0x80_0000_0000, // where the image is mapped in ring 3 (USER_BASE)
  chunkSize: 2 * 1024 * 1024,
  fields: [
    { name: 'magic', type: 'u32', doc: 'SERVICE_IMAGE.magic' },
    { name: 'headerLen', type: 'u32', doc: '32' },
    { name: 'entry', type: 'u64', doc: 'entry point (virtual, in the user window)' },
    { name: 'imageLen', type: 'u32', doc: 'bytes of the image file (header included)' },
    { name: 'memLen', type: 'u32', doc: 'bytes of memory from USER_BASE: image + zeroed data' },
    { name: 'stackLen', type: 'u32', doc: 'stack bytes wanted above memLen' },
    { name: 'textLen', type: 'u32', doc: 'bytes from USER_BASE that are code (header + text, 4 KiB-aligned): executable and read-only; everything above is data and never executable (NX). 0: the whole file image is code (images made before NX)' },
  ] as FieldDef[],
};

export type Channel = 'signaling' | 'data';
export type Scope = 'system' | 'dime';
export interface MessageDef {
  name: string;
  channel: Channel;
  code: number;
  scopes: Scope[];
  /** who sends the request/event: an orchestrator or a DIME */
  from: 'orchestrator' | 'dime' | 'any';
  doc: string;
  request?: Layout; // request or event payload
  response?: Layout; // payload of the FLAG_RESPONSE answer (absent: no answer)
}

const str16 = { str: 16 } as const;
/** An empty payload: a request without arguments, or an answer that carries only its status. */
const EMPTY: Layout = { fields: [] };
/** A command to one DIME, or every DIME of the server, that carries nothing and is answered with its status alone. */
const control = (name: string, code: number, doc: string): MessageDef =>
  ({ name, channel: 'signaling', code, scopes: ['system', 'dime'], from: 'orchestrator', doc, request: EMPTY, response: EMPTY });
const perfLayout: Layout = {
  fields: [
    { name: 'dime', type: 'u16', doc: 'reporting DIME' },
    { name: 'state', type: 'u8', doc: 'STATE_*' },
    { name: 'pad', type: 'u8', doc: 'zero' },
    { name: 'cpuPermille', type: 'u16', doc: 'busy (not halted) time over the window, 0..1000' },
    { name: 'cpuPermilleTotal', type: 'u16', doc: 'busy time since boot, 0..1000' },
    { name: 'memUsed', type: 'u16', doc: 'chunks (2 MiB) owned' },
    { name: 'memLimit', type: 'u16', doc: 'chunk limit' },
    { name: 'poolFree', type: 'u16', doc: 'free chunks in the server' },
    { name: 'poolTotal', type: 'u16', doc: 'all chunks in the server' },
    { name: 'windowNs', type: 'u64', doc: 'length of the measurement window' },
    { name: 'framesIn', type: 'u32', doc: 'frames received by this DIME since boot' },
    { name: 'framesOut', type: 'u32', doc: 'frames sent by this DIME since boot' },
    { name: 'bytesIn', type: 'u64', doc: 'bytes received since boot' },
    { name: 'bytesOut', type: 'u64', doc: 'bytes sent since boot' },
    { name: 'serviceCpuNs', type: 'u64', doc: 'CPU time of the current (or last) service' },
    { name: 'inputQueued', type: 'u32', doc: 'bytes waiting in the service input queue' },
  ],
};

export const MESSAGES: MessageDef[] = [
  // ---------------- signaling channel ----------------
  {
    name: 'DISCOVER', channel: 'signaling', code: 0x01, scopes: ['system', 'dime'], from: 'orchestrator',
    doc: 'Who is there? System scope: every DIME of the server answers, one response each.',
    request: EMPTY,
    response: {
      fields: [
        { name: 'dime', type: 'u16', doc: 'answering DIME (core index, 0 = boot core)' },
        { name: 'cores', type: 'u16', doc: 'DIMEs in this server' },
        { name: 'apicId', type: 'u16', doc: 'local APIC id of the core' },
        { name: 'state', type: 'u8', doc: 'STATE_*' },
        { name: 'flags', type: 'u8', doc: 'bit 0: heartbeat muted by the service' },
        { name: 'memLimit', type: 'u16', doc: 'chunk limit' },
        { name: 'memUsed', type: 'u16', doc: 'chunks owned' },
        { name: 'poolFree', type: 'u16', doc: 'free chunks in the server' },
        { name: 'poolTotal', type: 'u16', doc: 'all chunks in the server' },
        { name: 'heartbeatMs', type: 'u32', doc: 'heartbeat interval (0 = off)' },
        { name: 'perfMs', type: 'u32', doc: 'performance broadcast interval (0 = off)' },
        { name: 'uptimeNs', type: 'u64', doc: 'since the kernel started' },
        { name: 'serverMac', type: 'mac', doc: "the server's NIC address" },
        { name: 'protoVersion', type: 'u8', doc: 'PROTOCOL_VERSION' },
        { name: 'pad', type: 'u8', doc: 'zero' },
        { name: 'service', type: str16, doc: 'name of the loaded/running service, empty when none' },
      ],
    },
  },
  {
    name: 'HEARTBEAT', channel: 'signaling', code: 0x02, scopes: ['dime'], from: 'dime',
    doc: 'Fault management: each DIME broadcasts one every heartbeat interval (EVENT flag).',
    request: {
      fields: [
        { name: 'dime', type: 'u16', doc: 'reporting DIME' },
        { name: 'state', type: 'u8', doc: 'STATE_*' },
        { name: 'pad', type: 'u8', doc: 'zero' },
        { name: 'beat', type: 'u32', doc: 'heartbeat counter' },
        { name: 'uptimeNs', type: 'u64', doc: 'since the kernel started' },
        { name: 'intervalMs', type: 'u32', doc: 'current interval' },
        { name: 'cpuPermille', type: 'u16', doc: 'busy time since the previous beat' },
        { name: 'memUsed', type: 'u16', doc: 'chunks owned' },
        { name: 'service', type: str16, doc: 'current service' },
      ],
    },
  },
  {
    name: 'SET_HEARTBEAT', channel: 'signaling', code: 0x03, scopes: ['system', 'dime'], from: 'orchestrator',
    doc: 'Set the heartbeat interval (ms, 0 = off, else 10..3600000).',
    request: { fields: [{ name: 'intervalMs', type: 'u32', doc: 'interval' }] },
    response: EMPTY,
  },
  {
    name: 'SET_PERF_INTERVAL', channel: 'signaling', code: 0x04, scopes: ['system', 'dime'], from: 'orchestrator',
    doc: 'Set the performance broadcast interval (ms, 0 = off, else 10..3600000).',
    request: { fields: [{ name: 'intervalMs', type: 'u32', doc: 'interval' }] },
    response: EMPTY,
  },
  {
    name: 'LOAD_BEGIN', channel: 'signaling', code: 0x05, scopes: ['dime'], from: 'orchestrator',
    doc: 'Start loading a service image of `size` bytes; LOAD_CHUNK frames follow on the data channel. The sender becomes the owner of the DIME.',
    request: {
      fields: [
        { name: 'size', type: 'u32', doc: 'image bytes' },
        { name: 'crc32', type: 'u32', doc: 'CRC-32 (IEEE 802.3) of the whole image' },
        { name: 'name', type: str16, doc: 'service name' },
      ],
    },
    response: { fields: [{ name: 'chunks', type: 'u16', doc: 'chunks reserved for the image' }] },
  },
  {
    name: 'LOAD_BUILTIN', channel: 'signaling', code: 0x06, scopes: ['system', 'dime'], from: 'orchestrator',
    doc: 'Load a service embedded in the kernel image by name. The sender becomes the owner.',
    request: { fields: [{ name: 'name', type: str16, doc: 'built-in service name' }] },
    response: {
      fields: [
        { name: 'size', type: 'u32', doc: 'image bytes' },
        { name: 'crc32', type: 'u32', doc: 'CRC-32 of the image' },
      ],
    },
  },
  control('EXECUTE', 0x07, 'Run the loaded image in ring 3 on this DIME (state LOADED -> RUNNING).'),
  control('SUSPEND', 0x08, 'Stop scheduling the running service (RUNNING -> SUSPENDED); the core halts.'),
  control('RESUME', 0x09, 'SUSPENDED -> RUNNING.'),
  control('STOP', 0x0a, 'End the service (or discard a loaded image); all its memory returns to the pool.'),
  control('RESET', 0x0b, 'STOP, then restore defaults: routes, parameters, memory limit, intervals, owner.'),
  {
    name: 'SET_PARAM', channel: 'signaling', code: 0x0c, scopes: ['system', 'dime'], from: 'orchestrator',
    doc: 'Set a service parameter (readable by the service at any time; empty value deletes).',
    request: {
      fields: [
        { name: 'key', type: str16, doc: 'parameter name' },
        { name: 'value', type: { str: 64 }, doc: 'value' },
      ],
    },
    response: EMPTY,
  },
  {
    name: 'SET_MEMLIMIT', channel: 'signaling', code: 0x0d, scopes: ['system', 'dime'], from: 'orchestrator',
    doc: 'Set the memory limit in 2 MiB chunks (1..512).',
    request: { fields: [{ name: 'chunks', type: 'u16', doc: 'limit' }] },
    response: EMPTY,
  },
  {
    name: 'SET_ROUTE', channel: 'signaling', code: 0x0e, scopes: ['dime'], from: 'orchestrator',
    doc: 'Rewire the service input or output, live.',
    request: {
      fields: [
        { name: 'direction', type: 'u8', doc: 'ROUTE_DIR_*' },
        { name: 'kind', type: 'u8', doc: 'ROUTE_*' },
        { name: 'core', type: 'u16', doc: 'DIME number for ROUTE_DIME' },
        { name: 'mac', type: 'mac', doc: 'server (ROUTE_DIME) or orchestrator (ROUTE_ORCHESTRATOR) address' },
      ],
    },
    response: EMPTY,
  },
  {
    name: 'QUERY_ACCOUNTING', channel: 'signaling', code: 0x0f, scopes: ['dime'], from: 'orchestrator',
    doc: 'Accounting: call records with sequence number >= `from` (as many as fit).',
    request: { fields: [{ name: 'from', type: 'u32', doc: 'first record wanted' }] },
    response: {
      fields: [
        { name: 'total', type: 'u32', doc: 'records created since boot' },
        { name: 'oldest', type: 'u32', doc: 'oldest record still kept' },
      ],
      records: [
        { name: 'seq', type: 'u32', doc: 'record number' },
        { name: 'whoMac', type: 'mac', doc: 'requester' },
        { name: 'whoCore', type: 'u16', doc: 'requesting DIME or CORE_NONE' },
        { name: 'channel', type: 'u8', doc: '0 signaling, 1 data' },
        { name: 'what', type: 'u8', doc: 'instruction type' },
        { name: 'status', type: 'u16', doc: 'STATUS_* (for EXECUTE: 0 while running, then EXIT_REASON + 0x100)' },
        { name: 'startNs', type: 'u64', doc: 'request received' },
        { name: 'endNs', type: 'u64', doc: 'request finished (service end for EXECUTE; 0 while running)' },
        { name: 'cpuNs', type: 'u64', doc: 'CPU time spent on it' },
        { name: 'bytesIn', type: 'u32', doc: 'bytes in (request frame, or service input)' },
        { name: 'bytesOut', type: 'u32', doc: 'bytes out (response frame, or service output)' },
        { name: 'service', type: str16, doc: 'service concerned' },
      ],
    },
  },
  {
    name: 'QUERY_PERF', channel: 'signaling', code: 0x10, scopes: ['system', 'dime'], from: 'orchestrator',
    doc: 'Performance report on request (same layout as PERF).',
    request: EMPTY,
    response: perfLayout,
  },
  {
    name: 'PERF', channel: 'signaling', code: 0x11, scopes: ['dime'], from: 'dime',
    doc: 'Performance broadcast every performance interval (EVENT flag).',
    request: perfLayout,
  },
  {
    name: 'ALARM', channel: 'signaling', code: 0x12, scopes: ['dime'], from: 'dime',
    doc: 'Fault / security / resource alarm (EVENT flag), broadcast.',
    request: {
      fields: [
        { name: 'dime', type: 'u16', doc: 'reporting DIME' },
        { name: 'kind', type: 'u8', doc: 'ALARM_KIND_*' },
        { name: 'code', type: 'u8', doc: 'FAULT: exception vector; SECURITY: SECURITY_CODE_*' },
        { name: 'detail', type: 'u64', doc: 'FAULT: faulting address (CR2) or error code; SECURITY: offending sequence number (MALFORMED: MALFORMED_REASON_*); RESOURCE: image size' },
        { name: 'rip', type: 'u64', doc: 'FAULT: instruction pointer' },
        { name: 'peerMac', type: 'mac', doc: 'SECURITY: claimed sender' },
        { name: 'peerCore', type: 'u16', doc: 'SECURITY: claimed sending DIME' },
        { name: 'count', type: 'u32', doc: 'events of this kind so far (alarmed or not)' },
        { name: 'text', type: { str: 32 }, doc: 'human-readable summary' },
      ],
    },
  },
  {
    name: 'SERVICE_EXIT', channel: 'signaling', code: 0x13, scopes: ['dime'], from: 'dime',
    doc: 'A service ended (EVENT flag, broadcast like every event).',
    request: {
      fields: [
        { name: 'dime', type: 'u16', doc: 'reporting DIME' },
        { name: 'reason', type: 'u8', doc: 'EXIT_REASON_*' },
        { name: 'pad', type: 'u8', doc: 'zero' },
        { name: 'exitCode', type: 'i32', doc: 'value passed to exit()' },
        { name: 'runNs', type: 'u64', doc: 'wall time' },
        { name: 'cpuNs', type: 'u64', doc: 'CPU time (not halted)' },
        { name: 'bytesIn', type: 'u64', doc: 'input consumed' },
        { name: 'bytesOut', type: 'u64', doc: 'output produced' },
        { name: 'service', type: str16, doc: 'service name' },
      ],
    },
  },
  {
    name: 'QUERY_SECURITY', channel: 'signaling', code: 0x14, scopes: ['dime'], from: 'orchestrator',
    doc: 'Security counters of this DIME.',
    request: EMPTY,
    response: {
      fields: [
        { name: 'accepted', type: 'u32', doc: 'frames accepted' },
        { name: 'forged', type: 'u32', doc: 'dropped: bad tag' },
        { name: 'replayed', type: 'u32', doc: 'dropped: sequence number not above the last seen' },
        { name: 'unauthorized', type: 'u32', doc: 'refused: sender not allowed' },
        { name: 'malformed', type: 'u32', doc: 'dropped: bad header or length' },
        { name: 'alarms', type: 'u32', doc: 'security alarms sent' },
        { name: 'nicOversize', type: 'u32', doc: 'server-wide: frames the NIC dropped as too long (e1000 ROC), since boot' },
        { name: 'nicMissed', type: 'u32', doc: 'server-wide: frames the NIC dropped for want of a receive descriptor (e1000 MPC), since boot' },
        { name: 'challenged', type: 'u32', doc: 'commands with epoch 0 (first contact): answered STALE_EPOCH, not executed' },
        { name: 'reports', type: 'u32', doc: 'server-wide: dropped RESPONSE/EVENT-flagged frames (reports are for orchestrators)' },
        { name: 'inboxDropped', type: 'u32', doc: "dropped: this DIME's inbox was full" },
        { name: 'ignored', type: 'u32', doc: 'server-wide: frames of another EtherType, runts under 14 bytes, our own looped back' },
        { name: 'epochChanges', type: 'u32', doc: 'server-wide: epoch changes since boot (replay-table evictions)' },
        { name: 'epochNow', type: 'u64', doc: "the server's current epoch" },
        { name: 'nicRunts', type: 'u32', doc: 'server-wide: frames the NIC dropped as shorter than 14 bytes (e1000 RUC; QEMU pads them instead), since boot' },
        { name: 'lineDuplicates', type: 'u32', doc: 'STREAM_SEQ lines dropped: already received (a replay after failover or a retransmission)' },
        { name: 'lineGaps', type: 'u32', doc: 'STREAM_SEQ lines dropped: out of order (an earlier line is missing; the sender sends it again)' },
        { name: 'lineRefused', type: 'u32', doc: 'STREAM_SEQ lines dropped: not one line, or no room to remember it (the sender sends it again)' },
        { name: 'lineAcksRefused', type: 'u32', doc: 'STREAM_ACK frames dropped: not from where this DIME sends its output' },
        { name: 'linesHeld', type: 'u32', doc: 'output lines held now until acknowledged downstream' },
        { name: 'storageRefused', type: 'u32', doc: "local store accesses of this DIME's service refused: no grant (docs/STORAGE.md)" },
      ],
    },
  },
  {
    name: 'PING', channel: 'signaling', code: 0x15, scopes: ['system', 'dime'], from: 'any',
    doc: 'Echo (signaling round trip).',
    request: { fields: [{ name: 'nonce', type: 'u64', doc: 'echoed' }] },
    response: { fields: [{ name: 'nonce', type: 'u64', doc: 'the request nonce' }] },
  },
  {
    name: 'SHUTDOWN', channel: 'signaling', code: 0x16, scopes: ['system'], from: 'orchestrator',
    doc: 'Power the server off (writes the debug-exit port, then halts every core).',
    request: { fields: [{ name: 'code', type: 'u8', doc: 'exit code' }] },
    response: EMPTY,
  },
  {
    name: 'COLL_START', channel: 'signaling', code: 0x20, scopes: ['dime'], from: 'orchestrator',
    doc: 'Start a collective (XFER-AND-SIGNAL, COMPARE-AND-WRITE, barrier, the launch steps of a service image) on a set of DIMEs. Sent to the first member, which coordinates it over a tree of the members; answered when it is over. A repeat with the same op is answered once it is over (docs/COLLECTIVES.md).',
    request: {
      fields: [
        { name: 'op', type: 'u64', doc: 'operation id chosen by the initiator (nonzero, unique): repeats are recognised by it' },
        { name: 'kind', type: 'u8', doc: 'COLL_KIND_*' },
        { name: 'fanout', type: 'u8', doc: 'children per tree node, 1..8 (0 = 2)' },
        { name: 'count', type: 'u16', doc: 'members (1..64); member 0 is the DIME this is sent to' },
        { name: 'event', type: 'u16', doc: 'XFER: event signalled on every member (0..15)' },
        { name: 'offset', type: 'u16', doc: 'XFER: where the block goes in global memory' },
        { name: 'dataLen', type: 'u16', doc: 'XFER: block bytes (after the member list)' },
        { name: 'var', type: 'u8', doc: 'CAW: global variable compared (0..7)' },
        { name: 'cmp', type: 'u8', doc: 'CAW: COLL_CMP_* (variable OP compare)' },
        { name: 'writeVar', type: 'u8', doc: 'CAW: global variable assigned when the comparison holds on every member' },
        { name: 'pad', type: 'u8', doc: 'zero' },
        { name: 'timeoutMs', type: 'u16', doc: 'a member silent this long counts as dead (0 = 1000)' },
        { name: 'compare', type: 'u64', doc: 'CAW: value compared with' },
        { name: 'value', type: 'u64', doc: 'CAW: value assigned' },
        { name: 'members', type: 'rest', doc: 'count x (mac 6, core u16), then the XFER block (dataLen bytes)' },
      ],
    },
    response: {
      fields: [
        { name: 'outcome', type: 'u8', doc: 'COLL_OUTCOME_*' },
        { name: 'pad', type: 'u8', doc: 'zero' },
        { name: 'answered', type: 'u16', doc: 'members that answered the last phase (for an ABORTED XFER: the PREPARE)' },
        { name: 'yes', type: 'u16', doc: 'of those, how many said yes: XFER holds / applied the block, CAW comparison true / assigned' },
        { name: 'missing', type: 'u16', doc: 'lowest member index that did not answer (0xFFFF: none)' },
      ],
    },
  },
  // name service fleet (docs/NAMES.md): signaling 0x1b-0x1d, 0x23; data 0x09-0x0c
  {
    name: 'NAME_FLEET', channel: 'signaling', code: 0x1b, scopes: ['dime'], from: 'orchestrator',
    doc: "Tell a DIME the name fleet's membership (a view): member 0 is the primary. A DIME in the list is a member and keeps a replica of the name table; a DIME not in it uses the members to resolve names (and caches the answers). count 0: forget the fleet.",
    request: {
      fields: [
        { name: 'view', type: 'u32', doc: 'view number: increases with every membership change; frames of another view are refused' },
        { name: 'count', type: 'u16', doc: 'members (0..16)' },
        { name: 'pad', type: 'u16', doc: 'zero' },
        { name: 'members', type: 'rest', doc: 'count x (mac 6, core u16)' },
      ],
    },
    response: { fields: [{ name: 'applied', type: 'u32', doc: "this DIME's replica: highest sequence number applied" }] },
  },
  {
    name: 'NAME_REGISTER', channel: 'signaling', code: 0x1c, scopes: ['dime'], from: 'orchestrator',
    doc: 'Bind a name to a DIME. Sent to the primary (member 0; others answer BAD_STATE), which gives it the next sequence number and answers once every live member holds it. Idempotent: the same binding again is answered with its sequence number.',
    request: {
      fields: [
        { name: 'name', type: { str: 32 }, doc: 'the name' },
        { name: 'server', type: 'mac', doc: 'server of the named DIME' },
        { name: 'core', type: 'u16', doc: 'the named DIME' },
      ],
    },
    response: {
      fields: [
        { name: 'seq', type: 'u32', doc: "the binding's sequence number" },
        { name: 'acked', type: 'u16', doc: 'members holding it (the primary included)' },
        { name: 'live', type: 'u16', doc: 'members the primary counts alive' },
      ],
    },
  },
  {
    name: 'NAME_RESOLVE', channel: 'signaling', code: 0x1d, scopes: ['dime'], from: 'any',
    doc: 'What DIME a name is bound to. A member answers from its replica (BAD_STATE while it is still catching up); any other DIME answers from its kernel cache (TTL) or asks a member.',
    request: { fields: [{ name: 'name', type: { str: 32 }, doc: 'the name' }] },
    response: {
      fields: [
        { name: 'server', type: 'mac', doc: 'server of the named DIME' },
        { name: 'core', type: 'u16', doc: 'the named DIME' },
        { name: 'seq', type: 'u32', doc: "the binding's sequence number" },
        { name: 'source', type: 'u8', doc: 'NAME_SOURCE_*: who answered' },
        { name: 'pad', type: 'u8', doc: 'zero' },
      ],
    },
  },
  {
    name: 'NAME_STATUS', channel: 'signaling', code: 0x23, scopes: ['dime'], from: 'any',
    doc: "A DIME's view of the name fleet and its replica's bindings from index `first` (as many as fit).",
    request: { fields: [{ name: 'first', type: 'u16', doc: 'first binding wanted (table order)' }] },
    response: {
      fields: [
        { name: 'view', type: 'u32', doc: 'view number' },
        { name: 'self', type: 'u16', doc: "this DIME's member index (0 = primary; 0xFFFF: not a member)" },
        { name: 'count', type: 'u16', doc: 'members in the view' },
        { name: 'applied', type: 'u32', doc: 'highest sequence number applied here' },
        { name: 'head', type: 'u32', doc: "the primary's highest sequence number, as last heard (a member is caught up when applied >= head)" },
        { name: 'names', type: 'u16', doc: 'bindings held' },
        { name: 'live', type: 'u16', doc: 'primary: members it counts alive' },
        { name: 'deaths', type: 'u32', doc: 'primary: members it gave up on (silent past the timeout)' },
        { name: 'refused', type: 'u32', doc: 'name frames refused here: another view, not from the primary, not from a DIME' },
        { name: 'cacheHits', type: 'u32', doc: 'resolutions answered from the kernel cache' },
        { name: 'cacheMisses', type: 'u32', doc: 'resolutions that asked a member' },
      ],
      records: [
        { name: 'name', type: { str: 32 }, doc: 'the name' },
        { name: 'server', type: 'mac', doc: 'server of the named DIME' },
        { name: 'core', type: 'u16', doc: 'the named DIME' },
        { name: 'seq', type: 'u32', doc: "the binding's sequence number" },
      ],
    },
  },
  {
    name: 'TEST_EVENT', channel: 'signaling', code: 0x21, scopes: ['dime'], from: 'any',
    doc: 'How many times an event of this DIME was signalled by XFER-AND-SIGNAL (non-blocking).',
    request: { fields: [{ name: 'event', type: 'u16', doc: 'event (0..15)' }] },
    response: { fields: [{ name: 'count', type: 'u32', doc: 'signals so far' }] },
  },
  {
    name: 'COLL_READ', channel: 'signaling', code: 0x22, scopes: ['dime'], from: 'any',
    doc: "Read this DIME's global variables and a range of its global memory.",
    request: {
      fields: [
        { name: 'offset', type: 'u16', doc: 'first byte of global memory' },
        { name: 'len', type: 'u16', doc: 'bytes (at most 1024)' },
      ],
    },
    response: {
      fields: [
        { name: 'vars', type: { bytes: 64 }, doc: 'the 8 global variables, u64 each' },
        { name: 'xfers', type: 'u32', doc: 'XFER blocks applied (committed) here since boot' },
        { name: 'writes', type: 'u32', doc: 'COMPARE-AND-WRITE assignments applied here since boot' },
        { name: 'data', type: 'rest', doc: 'the bytes' },
      ],
    },
  },
  // live migration (docs/MIGRATION.md): signaling 0x17-0x1a, data 0x05-0x08
  {
    name: 'MIGRATE_OUT', channel: 'signaling', code: 0x17, scopes: ['dime'], from: 'orchestrator',
    doc: "Freeze this DIME's running service at its next clean point (in user mode, or blocked in a restartable system call) and move it to DIME `server`/`core`. Same server: memory chunks, registers, routes, numbered-line state and pending input are handed over in kernel memory, the target is left SUSPENDED (RESUME starts it) and frames still reaching this DIME are forwarded there. Another server: the service stays frozen here (mode 2) for MIGRATE_READ, until MIGRATE_END. Owner only; the answer comes after the freeze.",
    request: {
      fields: [
        { name: 'server', type: 'mac', doc: 'server of the target DIME' },
        { name: 'core', type: 'u16', doc: 'the target DIME' },
      ],
    },
    response: {
      fields: [
        { name: 'mode', type: 'u8', doc: 'MIGRATE_MODE_*: 1 moved within the server, 2 frozen for export' },
        { name: 'restarted', type: 'u8', doc: '1: frozen in a system call that the target restarts' },
        { name: 'chunks', type: 'u16', doc: 'memory chunks of the service' },
        { name: 'stateLen', type: 'u32', doc: 'bytes of the frozen state (mode 2: what MIGRATE_READ reads)' },
        { name: 'freezeUs', type: 'u32', doc: 'request to freeze, microseconds' },
        { name: 'pages', type: 'u32', doc: 'non-zero 4 KiB pages (mode 2: in the state)' },
      ],
    },
  },
  {
    name: 'MIGRATE_IN', channel: 'signaling', code: 0x18, scopes: ['dime'], from: 'orchestrator',
    doc: 'Prepare this idle DIME to receive a frozen service of `stateLen` bytes (MIGRATE_CHUNK frames follow); the sender becomes its owner. When complete and its CRC-32 matches, the service is installed SUSPENDED (RESUME starts it).',
    request: {
      fields: [
        { name: 'stateLen', type: 'u32', doc: 'bytes of the frozen state' },
        { name: 'crc32', type: 'u32', doc: 'CRC-32 of the frozen state' },
      ],
    },
    response: { fields: [{ name: 'chunks', type: 'u16', doc: 'chunks reserved for the transfer' }] },
  },
  {
    name: 'MIGRATE_END', channel: 'signaling', code: 0x19, scopes: ['dime'], from: 'orchestrator',
    doc: 'To the DIME a service was frozen on for export: commit 1 = it runs at `server`/`core` now (its memory is returned; frames still reaching this DIME are counted and dropped: their senders hold them and send them again to the new place); commit 0 = abort, the service resumes here as if nothing happened.',
    request: {
      fields: [
        { name: 'commit', type: 'u8', doc: '1 commit, 0 abort' },
        { name: 'pad', type: 'u8', doc: 'zero' },
        { name: 'core', type: 'u16', doc: 'where the service went' },
        { name: 'server', type: 'mac', doc: 'server of where the service went' },
      ],
    },
    response: { fields: [{ name: 'forwarded', type: 'u32', doc: 'frames forwarded or dropped after the freeze so far' }] },
  },
  // local storage (docs/STORAGE.md): signaling 0x30-0x37
  {
    name: 'STORE_GRANT', channel: 'signaling', code: 0x30, scopes: ['system', 'dime'], from: 'orchestrator',
    doc: "Grant (or with rights 0 withdraw) this DIME's service access to the server's local file store: every file whose name starts with `prefix` (empty: every file). Kept like parameters: until changed or RESET.",
    request: {
      fields: [
        { name: 'rights', type: 'u8', doc: 'STORE_RIGHT_* bits; 0 removes the grant of this prefix' },
        { name: 'pad', type: 'u8', doc: 'zero' },
        { name: 'prefix', type: { str: 32 }, doc: 'file name prefix' },
      ],
    },
    response: { fields: [{ name: 'grants', type: 'u16', doc: 'grants this DIME holds now' }] },
  },
  {
    name: 'QUERY_STORAGE', channel: 'signaling', code: 0x31, scopes: ['system', 'dime'], from: 'orchestrator',
    doc: "Local storage: this DIME's I/O accounting since boot and the server's store.",
    request: EMPTY,
    response: {
      fields: [
        { name: 'dime', type: 'u16', doc: 'answering DIME' },
        { name: 'store', type: 'u8', doc: 'STORE_STATE_*: the server store' },
        { name: 'grants', type: 'u8', doc: 'grants this DIME holds' },
        { name: 'opens', type: 'u32', doc: 'files opened by this DIME' },
        { name: 'reads', type: 'u32', doc: 'read calls' },
        { name: 'writes', type: 'u32', doc: 'write calls' },
        { name: 'bytesRead', type: 'u64', doc: 'bytes read from files' },
        { name: 'bytesWritten', type: 'u64', doc: 'bytes written to files' },
        { name: 'refused', type: 'u32', doc: 'accesses refused for want of a grant (each one counted; SECURITY alarms rate-limited)' },
        { name: 'errors', type: 'u32', doc: 'other failed calls (no such file, full, bad handle, disk error)' },
        { name: 'diskSectors', type: 'u64', doc: 'server-wide: capacity of the store disk in 512-byte sectors (0: none)' },
        { name: 'files', type: 'u16', doc: 'server-wide: files in the store' },
        { name: 'slots', type: 'u16', doc: 'server-wide: file slots of the store' },
        { name: 'slotBytes', type: 'u32', doc: 'server-wide: largest file size' },
        { name: 'diskRequests', type: 'u64', doc: 'server-wide: virtio-blk requests since boot' },
        { name: 'diskErrors', type: 'u32', doc: 'server-wide: virtio-blk requests that failed' },
      ],
    },
  },
  // network boot (docs/BOOT.md, "Network boot"): signaling 0x1e-0x1f. (The block 0x40-0x47 first
  // allotted cannot be encoded: the type field is 6 bits, and 0x40 is the EtherType's scope bit.)
  {
    name: 'BOOT_REQUEST', channel: 'signaling', code: 0x1e, scopes: ['system'], from: 'dime',
    doc: "The boot firmware asks for an image: to BOOT.multicastMac, srcCore 0, tagged with the server's own key, header epoch = the firmware's random nonce. A boot server answers with the offer (tagged with that server's key, epoch echoed).",
    request: {
      fields: [
        { name: 'firmware', type: 'u16', doc: 'BOOT.firmwareVersion' },
        { name: 'pad', type: 'u16', doc: 'zero' },
        { name: 'forged', type: 'u32', doc: 'boot frames this firmware refused so far for a bad tag (wrong key, unsigned)' },
        { name: 'replayed', type: 'u32', doc: 'boot frames refused so far for another epoch (replayed from an earlier request)' },
      ],
    },
    response: {
      fields: [
        { name: 'size', type: 'u32', doc: 'image bytes' },
        { name: 'chunk', type: 'u16', doc: 'image bytes per BOOT_DATA frame' },
        { name: 'pad', type: 'u16', doc: 'zero' },
        { name: 'sha256', type: { bytes: 32 }, doc: 'SHA-256 of the whole image (checked before it is entered)' },
        { name: 'name', type: str16, doc: 'image name (first word of the Multiboot command line)' },
        { name: 'cmdline', type: { str: 256 }, doc: 'kernel command line after the name' },
      ],
    },
  },
  {
    name: 'BOOT_READ', channel: 'signaling', code: 0x1f, scopes: ['system'], from: 'dime',
    doc: "The firmware asks the boot server that made the offer for image bytes [offset, offset+length); answered by BOOT_DATA frames (reqId and epoch echoed). Asked again for what did not arrive.",
    request: {
      fields: [
        { name: 'offset', type: 'u32', doc: 'first byte wanted (a multiple of the chunk size)' },
        { name: 'length', type: 'u32', doc: 'bytes wanted (at most BOOT.window chunks)' },
      ],
    },
  },
  // central storage through the orchestrator (docs/STORAGE.md, "Central storage"): signaling 0x38-0x3f
  {
    name: 'CSTORE_GRANT', channel: 'signaling', code: 0x38, scopes: ['system', 'dime'], from: 'orchestrator',
    doc: "Tell this DIME that the central export `name` is served by `server` and what its service may do there (rights 0: forget it). The export server checks every request again: this only lets the DIME find the export and refuse early.",
    request: {
      fields: [
        { name: 'rights', type: 'u8', doc: 'STORE_RIGHT_* bits; 0 removes the export from this DIME' },
        { name: 'pad', type: 'u8', doc: 'zero' },
        { name: 'server', type: 'mac', doc: 'the orchestrator serving the export' },
        { name: 'name', type: { str: 32 }, doc: 'export name (a service opens it as "@name")' },
      ],
    },
    response: { fields: [{ name: 'exports', type: 'u16', doc: 'central exports this DIME knows now' }] },
  },
  {
    name: 'QUERY_CSTORE', channel: 'signaling', code: 0x39, scopes: ['system', 'dime'], from: 'orchestrator',
    doc: "Central storage: this DIME's client counters since boot.",
    request: EMPTY,
    response: {
      fields: [
        { name: 'dime', type: 'u16', doc: 'answering DIME' },
        { name: 'exports', type: 'u16', doc: 'central exports this DIME knows' },
        { name: 'opens', type: 'u32', doc: 'central files opened' },
        { name: 'reads', type: 'u32', doc: 'read calls' },
        { name: 'writes', type: 'u32', doc: 'write calls' },
        { name: 'bytesRead', type: 'u64', doc: 'bytes read' },
        { name: 'bytesWritten', type: 'u64', doc: 'bytes written' },
        { name: 'requests', type: 'u32', doc: 'request frames sent (first tries)' },
        { name: 'resent', type: 'u32', doc: 'request frames sent again after a timeout' },
        { name: 'lateAnswers', type: 'u32', doc: 'answers dropped: duplicate, or for a request given up' },
        { name: 'refused', type: 'u32', doc: 'accesses refused (no grant here, or the export server said UNAUTHORIZED)' },
        { name: 'errors', type: 'u32', doc: 'other failed calls (timeouts after every retry, bad handle, export errors)' },
      ],
    },
  },
  // ---------------- data channel ----------------
  {
    name: 'LOAD_CHUNK', channel: 'data', code: 0x01, scopes: ['dime'], from: 'orchestrator',
    doc: 'Image bytes at `offset`, in order (a repeat of an already received offset is acknowledged again).',
    request: {
      fields: [
        { name: 'offset', type: 'u32', doc: 'offset in the image' },
        { name: 'data', type: 'rest', doc: 'bytes' },
      ],
    },
    response: { fields: [{ name: 'received', type: 'u32', doc: 'bytes received so far' }] },
  },
  {
    name: 'STREAM', channel: 'data', code: 0x02, scopes: ['dime'], from: 'any',
    doc: "Service I/O bytes: to a DIME's input, or a DIME's output to its output route.",
    request: { fields: [{ name: 'data', type: 'rest', doc: 'bytes' }] },
  },
  {
    name: 'STREAM_SEQ', channel: 'data', code: 0x03, scopes: ['dime'], from: 'any',
    doc: "One numbered line of a pipeline: to a DIME's input, or a DIME's output to its output route. Delivered at least once, de-duplicated by number (PROTOCOL.md, 'Pipelines that lose nothing').",
    request: {
      fields: [
        { name: 'stream', type: 'u32', doc: 'stream id, chosen by the pipeline source (nonzero) and kept by every stage' },
        { name: 'line', type: 'u32', doc: "line number from 1; a stage's output line n carries the number of its input line n" },
        { name: 'lineFlags', type: 'u8', doc: 'LINE_FLAGS_*' },
        { name: 'pad', type: 'u8', doc: 'zero' },
        { name: 'data', type: 'rest', doc: 'one line: ends with its only newline' },
      ],
    },
  },
  {
    name: 'STREAM_ACK', channel: 'data', code: 0x04, scopes: ['dime'], from: 'any',
    doc: 'To the sender of STREAM_SEQ lines: every line up to `upTo` was processed and passed on (and acknowledged in turn by the next stage): the sender forgets them.',
    request: {
      fields: [
        { name: 'stream', type: 'u32', doc: 'stream id' },
        { name: 'upTo', type: 'u32', doc: 'cumulative: the highest line number done' },
      ],
    },
  },
  {
    name: 'MIGRATE_READ', channel: 'data', code: 0x05, scopes: ['dime'], from: 'orchestrator',
    doc: "Read the frozen state of a service frozen for export (MIGRATE_OUT mode 2), at `offset`. Owner only.",
    request: {
      fields: [
        { name: 'offset', type: 'u32', doc: 'offset in the frozen state' },
        { name: 'length', type: 'u16', doc: 'bytes wanted (at most what fits one frame)' },
      ],
    },
    response: {
      fields: [
        { name: 'offset', type: 'u32', doc: 'offset echoed' },
        { name: 'data', type: 'rest', doc: 'the bytes' },
      ],
    },
  },
  {
    name: 'MIGRATE_CHUNK', channel: 'data', code: 0x06, scopes: ['dime'], from: 'orchestrator',
    doc: 'Frozen-state bytes at `offset`, in order (as LOAD_CHUNK). Owner only.',
    request: {
      fields: [
        { name: 'offset', type: 'u32', doc: 'offset in the frozen state' },
        { name: 'data', type: 'rest', doc: 'bytes' },
      ],
    },
    response: { fields: [{ name: 'received', type: 'u32', doc: 'bytes received so far' }] },
  },
  {
    name: 'NAME_APPEND', channel: 'data', code: 0x09, scopes: ['dime'], from: 'dime',
    doc: "Primary to a member: the binding with sequence number `seq`, the member's next after `base` (bindings in between were overwritten later). seq 0: a probe, no binding. Answered with NAME_ACK; resent until answered.",
    request: {
      fields: [
        { name: 'view', type: 'u32', doc: 'view number' },
        { name: 'seq', type: 'u32', doc: "the binding's sequence number (0: probe)" },
        { name: 'base', type: 'u32', doc: 'apply only if the member has applied at least this' },
        { name: 'head', type: 'u32', doc: "the primary's highest sequence number" },
        { name: 'name', type: { str: 32 }, doc: 'the name' },
        { name: 'server', type: 'mac', doc: 'server of the named DIME' },
        { name: 'core', type: 'u16', doc: 'the named DIME' },
      ],
    },
  },
  {
    name: 'NAME_ACK', channel: 'data', code: 0x0a, scopes: ['dime'], from: 'dime',
    doc: 'Member to primary: the highest sequence number it has applied (the primary sends what follows).',
    request: {
      fields: [
        { name: 'view', type: 'u32', doc: 'view number' },
        { name: 'applied', type: 'u32', doc: 'highest sequence number applied' },
      ],
    },
  },
  {
    name: 'NAME_QUERY', channel: 'data', code: 0x0b, scopes: ['dime'], from: 'dime',
    doc: "A DIME's kernel to a fleet member: resolve a name (cache miss). Answered with NAME_ANSWER; asked of the next member when unanswered.",
    request: {
      fields: [
        { name: 'query', type: 'u32', doc: 'query id, echoed' },
        { name: 'name', type: { str: 32 }, doc: 'the name' },
      ],
    },
  },
  {
    name: 'NAME_ANSWER', channel: 'data', code: 0x0c, scopes: ['dime'], from: 'dime',
    doc: 'A fleet member to the asking kernel: the binding, or found = 0 (no such name), or found = 2 (this member is catching up: ask another).',
    request: {
      fields: [
        { name: 'query', type: 'u32', doc: 'query id of the NAME_QUERY' },
        { name: 'found', type: 'u8', doc: '1 bound, 0 unknown name, 2 not caught up' },
        { name: 'pad', type: 'u8', doc: 'zero' },
        { name: 'core', type: 'u16', doc: 'the named DIME' },
        { name: 'server', type: 'mac', doc: 'server of the named DIME' },
        { name: 'seq', type: 'u32', doc: "the binding's sequence number" },
      ],
    },
  },
  {
    name: 'COLL_DOWN', channel: 'data', code: 0x10, scopes: ['dime'], from: 'dime',
    doc: 'One phase of a collective, passed down the tree: the receiver acts (stage, commit, compare, write...), passes it to its children and answers its sender with COLL_UP. Resent until answered; a repeat is answered again.',
    request: {
      fields: [
        { name: 'op', type: 'u64', doc: 'operation id' },
        { name: 'phase', type: 'u8', doc: 'COLL_PHASE_*' },
        { name: 'fanout', type: 'u8', doc: 'children per tree node' },
        { name: 'count', type: 'u16', doc: 'members' },
        { name: 'self', type: 'u16', doc: "the receiver's index in the member list" },
        { name: 'event', type: 'u16', doc: 'XFER event' },
        { name: 'offset', type: 'u16', doc: 'XFER offset' },
        { name: 'dataLen', type: 'u16', doc: 'XFER block bytes (PREPARE only; 0 otherwise)' },
        { name: 'var', type: 'u8', doc: 'CAW variable compared' },
        { name: 'cmp', type: 'u8', doc: 'COLL_CMP_*' },
        { name: 'writeVar', type: 'u8', doc: 'CAW variable assigned' },
        { name: 'pad', type: 'u8', doc: 'zero' },
        { name: 'timeoutMs', type: 'u16', doc: 'silence after which a child counts as dead (its children are adopted)' },
        { name: 'compare', type: 'u64', doc: 'CAW compare value' },
        { name: 'value', type: 'u64', doc: 'CAW value assigned' },
        { name: 'members', type: 'rest', doc: 'count x (mac 6, core u16), then the block (dataLen bytes)' },
      ],
    },
  },
  {
    name: 'COLL_UP', channel: 'data', code: 0x11, scopes: ['dime'], from: 'dime',
    doc: 'The answer of a subtree to a COLL_DOWN: how many members answered and how many said yes (prepared, comparison true).',
    request: {
      fields: [
        { name: 'op', type: 'u64', doc: 'operation id' },
        { name: 'phase', type: 'u8', doc: 'COLL_PHASE_*' },
        { name: 'pad', type: 'u8', doc: 'zero' },
        { name: 'self', type: 'u16', doc: "the sender's index in the member list" },
        { name: 'answered', type: 'u16', doc: 'members of its subtree that answered (itself included)' },
        { name: 'yes', type: 'u16', doc: 'of those, how many voted yes' },
        { name: 'missing', type: 'u16', doc: 'lowest member index found dead in its subtree (0xFFFF: none)' },
      ],
    },
  },
  {
    name: 'BOOT_DATA', channel: 'data', code: 0x30, scopes: ['system'], from: 'orchestrator',
    doc: 'Boot image bytes at `offset`, answering a BOOT_READ (reqId and the firmware epoch echoed), tagged with the destination server\'s key.',
    request: {
      fields: [
        { name: 'offset', type: 'u32', doc: 'offset in the image' },
        { name: 'data', type: 'rest', doc: 'bytes (BOOT_REQUEST offer: chunk bytes, fewer at the end)' },
      ],
    },
  },
  // central storage (docs/STORAGE.md): data 0x28-0x2f, a DIME to the export server; the answer is a
  // RESPONSE of the same type. Stateless and idempotent: a request may be sent again with its reqId.
  {
    name: 'CSTORE_OPEN', channel: 'data', code: 0x28, scopes: ['dime'], from: 'dime',
    doc: 'Check access to an export (and empty it with TRUNC); answers its size and the rights of the asking DIME.',
    request: {
      fields: [
        { name: 'mode', type: 'u8', doc: 'DIME_O_* bits of the open (READ 1, WRITE 2, CREATE 4, TRUNC 8)' },
        { name: 'pad', type: 'u8', doc: 'zero' },
        { name: 'name', type: { str: 32 }, doc: 'export name' },
      ],
    },
    response: {
      fields: [
        { name: 'size', type: 'u64', doc: 'bytes in the export' },
        { name: 'rights', type: 'u8', doc: 'STORE_RIGHT_* of this DIME on it' },
      ],
    },
  },
  {
    name: 'CSTORE_READ', channel: 'data', code: 0x29, scopes: ['dime'], from: 'dime',
    doc: 'Bytes [offset, offset + len) of an export (fewer at its end).',
    request: {
      fields: [
        { name: 'offset', type: 'u64', doc: 'first byte' },
        { name: 'len', type: 'u16', doc: 'bytes wanted (at most 1024)' },
        { name: 'pad', type: 'u16', doc: 'zero' },
        { name: 'name', type: { str: 32 }, doc: 'export name' },
      ],
    },
    response: {
      fields: [
        { name: 'offset', type: 'u64', doc: 'first byte (as asked)' },
        { name: 'size', type: 'u64', doc: 'bytes in the export now' },
        { name: 'data', type: 'rest', doc: 'the bytes' },
      ],
    },
  },
  {
    name: 'CSTORE_WRITE', channel: 'data', code: 0x2a, scopes: ['dime'], from: 'dime',
    doc: 'Write bytes at `offset` of an export (grows it). Idempotent: the same bytes at the same place; the server also answers a repeated reqId from its cache.',
    request: {
      fields: [
        { name: 'offset', type: 'u64', doc: 'first byte' },
        { name: 'len', type: 'u16', doc: 'bytes (at most 1024)' },
        { name: 'pad', type: 'u16', doc: 'zero' },
        { name: 'name', type: { str: 32 }, doc: 'export name' },
        { name: 'data', type: 'rest', doc: 'the bytes' },
      ],
    },
    response: { fields: [{ name: 'size', type: 'u64', doc: 'bytes in the export now' }] },
  },
  {
    name: 'CSTORE_FLUSH', channel: 'data', code: 0x2b, scopes: ['dime'], from: 'dime',
    doc: "Make the export's bytes durable (fsync on the orchestrator's host); sent by the close of a handle that wrote.",
    request: { fields: [{ name: 'name', type: { str: 32 }, doc: 'export name' }] },
    response: { fields: [{ name: 'size', type: 'u64', doc: 'bytes in the export' }] },
  },
];

// ---------------- helpers shared by the codec and the generator ----------------

export function fieldSize(t: FieldType): number {
  if (t === 'u8') return 1;
  if (t === 'u16') return 2;
  if (t === 'u32' || t === 'i32') return 4;
  if (t === 'u64') return 8;
  if (t === 'mac') return 6;
  if (t === 'rest') return 0;
  if ('str' in t) return t.str;
  return t.bytes;
}

export interface PlacedField extends FieldDef {
  offset: number;
  size: number;
}

/** Offsets of each field; `size` = fixed bytes (a trailing 'rest' field adds none). */
export function place(fields: FieldDef[]): { fields: PlacedField[]; size: number } {
  let off = 0;
  const out: PlacedField[] = [];
  for (const f of fields) {
    const size = fieldSize(f.type);
    out.push({ ...f, offset: off, size });
    off += size;
  }
  return { fields: out, size: off };
}

export const HEADER_LEN = place(HEADER.fields).size; // 24
export const MAX_PAYLOAD = MAX_FRAME_LEN - ETH_HEADER_LEN - HEADER_LEN - TAG_LEN;

export function etherType(base: number, channel: Channel, scope: Scope, code: number): number {
  return (base & ETHERTYPE_BLOCK_MASK) | (channel === 'data' ? ET_CHANNEL_DATA : 0) | (scope === 'dime' ? ET_SCOPE_DIME : 0) | (code & ET_TYPE_MASK);
}

export function messageByName(name: string): MessageDef {
  const m = MESSAGES.find((x) => x.name === name);
  if (!m) throw new Error(`unknown message ${name}`);
  return m;
}

export function messageByCode(channel: Channel, code: number): MessageDef | undefined {
  return MESSAGES.find((x) => x.channel === channel && x.code === code);
}
