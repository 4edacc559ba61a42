-- Wireshark dissector for the Parallax DIME protocol (docs/PROTOCOL.md).
--
--   tshark -X lua_script:tools/wireshark/parallax.lua -r capture.pcap -Y parallax
--   tshark -X lua_script:tools/wireshark/parallax.lua -r capture.pcap -T fields \
--          -e parallax.msg -e parallax.kind -e parallax.seq -e parallax.status
--
-- Or copy this file into Wireshark's personal Lua plugins folder (Help > About > Folders).
-- The instruction travels in the EtherType itself: base | channel<<7 | scope<<6 | type, with
-- a configurable 256-value block (preference "EtherType block", default 0xAB00, as the
-- kernel's etherbase=). The HMAC-SHA256 tag is verified when the preference "Master secret"
-- holds the orchestrators' master secret (as text): -o parallax.key:SECRET. Tag keys are
-- derived from it per server with HKDF-SHA256, by the rule of src/protocol/keys.ts.
--
-- The tables between the GENERATED markers come from src/protocol/wire.ts (and the SHA-256
-- constants from the kernel's src/dime/kernel/crypto.c) through tools/wireshark/gen.ts;
-- test/net/dissector.test.ts fails when they are stale.

-- BEGIN GENERATED from src/protocol/wire.ts by tools/wireshark/gen.ts: do not edit
local PX = {
  etherbase_default = 0xAB00, block_mask = 0xFF00,
  channel_data = 0x80, scope_dime = 0x40, type_mask = 0x3F,
  version = 6, header_len = 32, tag_len = 32,
  max_frame_len = 1514, max_payload = 1436, core_none = 0xFFFF,
}
-- the Parallax header, right after the Ethernet header
local HEADER = {
  version = { offset = 0, size = 1 },
  flags = { offset = 1, size = 1 },
  dstCore = { offset = 2, size = 2 },
  srcCore = { offset = 4, size = 2 },
  length = { offset = 6, size = 2 },
  seq = { offset = 8, size = 8 },
  reqId = { offset = 16, size = 4 },
  status = { offset = 20, size = 2 },
  instance = { offset = 22, size = 2 },
  epoch = { offset = 24, size = 8 },
}
local FLAG_NAMES = { [1] = "RESPONSE", [2] = "EVENT" }
local FLAG_RESPONSE, FLAG_EVENT = 0x01, 0x02
local STATUS_NAMES = { [0] = "OK", [1] = "BAD_STATE", [2] = "NO_MEMORY", [3] = "BAD_CHECKSUM", [4] = "OUT_OF_RANGE", [5] = "NOT_FOUND", [6] = "MALFORMED", [7] = "UNAUTHORIZED", [8] = "BAD_IMAGE", [9] = "UNSUPPORTED", [10] = "STALE_EPOCH" }
local STATE_NAMES = { [0] = "IDLE", [1] = "LOADING", [2] = "LOADED", [3] = "RUNNING", [4] = "SUSPENDED" }
local ROUTE_NAMES = { [0] = "NONE", [1] = "CONSOLE", [2] = "DIME", [3] = "ORCHESTRATOR", [4] = "ANY" }
local ROUTE_DIR_NAMES = { [0] = "OUTPUT", [1] = "INPUT" }
local ALARM_KIND_NAMES = { [1] = "FAULT", [2] = "SECURITY", [3] = "RESOURCE" }
local SECURITY_CODE_NAMES = { [1] = "FORGED", [2] = "REPLAYED", [3] = "UNAUTHORIZED", [4] = "MALFORMED" }
local EXIT_REASON_NAMES = { [0] = "EXITED", [1] = "STOPPED", [2] = "FAULT", [3] = "RESET" }
-- payload fields: one Wireshark field each, parallax.f.<field>
local PAYLOAD_FIELDS = {
  { field = "accepted", kind = "u32" },
  { field = "acked", kind = "u16" },
  { field = "alarms", kind = "u32" },
  { field = "answered", kind = "u16" },
  { field = "apicId", kind = "u16" },
  { field = "applied", kind = "u32" },
  { field = "base", kind = "u32" },
  { field = "beat", kind = "u32" },
  { field = "bytesIn_u32", kind = "u32" },
  { field = "bytesIn_u64", kind = "u64" },
  { field = "bytesOut_u32", kind = "u32" },
  { field = "bytesOut_u64", kind = "u64" },
  { field = "bytesRead", kind = "u64" },
  { field = "bytesWritten", kind = "u64" },
  { field = "cacheHits", kind = "u32" },
  { field = "cacheMisses", kind = "u32" },
  { field = "challenged", kind = "u32" },
  { field = "channel", kind = "u8" },
  { field = "chunk", kind = "u16" },
  { field = "chunks", kind = "u16" },
  { field = "cmdline", kind = "str" },
  { field = "cmp", kind = "u8" },
  { field = "code", kind = "u8" },
  { field = "commit", kind = "u8" },
  { field = "compare", kind = "u64" },
  { field = "core", kind = "u16" },
  { field = "cores", kind = "u16" },
  { field = "count_u16", kind = "u16" },
  { field = "count_u32", kind = "u32" },
  { field = "cpuNs", kind = "u64" },
  { field = "cpuPermille", kind = "u16" },
  { field = "cpuPermilleTotal", kind = "u16" },
  { field = "crc32", kind = "u32" },
  { field = "data", kind = "rest" },
  { field = "dataLen", kind = "u16" },
  { field = "deaths", kind = "u32" },
  { field = "detail", kind = "u64" },
  { field = "dime", kind = "u16" },
  { field = "direction", kind = "u8" },
  { field = "diskErrors", kind = "u32" },
  { field = "diskRequests", kind = "u64" },
  { field = "diskSectors", kind = "u64" },
  { field = "endNs", kind = "u64" },
  { field = "epochChanges", kind = "u32" },
  { field = "epochNow", kind = "u64" },
  { field = "errors", kind = "u32" },
  { field = "event", kind = "u16" },
  { field = "exitCode", kind = "i32" },
  { field = "exports", kind = "u16" },
  { field = "fanout", kind = "u8" },
  { field = "files", kind = "u16" },
  { field = "firmware", kind = "u16" },
  { field = "first", kind = "u16" },
  { field = "flags", kind = "u8" },
  { field = "forged", kind = "u32" },
  { field = "forwarded", kind = "u32" },
  { field = "found", kind = "u8" },
  { field = "framesIn", kind = "u32" },
  { field = "framesOut", kind = "u32" },
  { field = "freezeUs", kind = "u32" },
  { field = "from", kind = "u32" },
  { field = "grants_u16", kind = "u16" },
  { field = "grants_u8", kind = "u8" },
  { field = "head", kind = "u32" },
  { field = "heartbeatMs", kind = "u32" },
  { field = "ignored", kind = "u32" },
  { field = "inboxDropped", kind = "u32" },
  { field = "inputQueued", kind = "u32" },
  { field = "intervalMs", kind = "u32" },
  { field = "key", kind = "str" },
  { field = "kind", kind = "u8" },
  { field = "lateAnswers", kind = "u32" },
  { field = "len", kind = "u16" },
  { field = "length_u16", kind = "u16" },
  { field = "length_u32", kind = "u32" },
  { field = "line", kind = "u32" },
  { field = "lineAcksRefused", kind = "u32" },
  { field = "lineDuplicates", kind = "u32" },
  { field = "lineFlags", kind = "u8" },
  { field = "lineGaps", kind = "u32" },
  { field = "lineRefused", kind = "u32" },
  { field = "linesHeld", kind = "u32" },
  { field = "live", kind = "u16" },
  { field = "mac", kind = "mac" },
  { field = "malformed", kind = "u32" },
  { field = "memLimit", kind = "u16" },
  { field = "memUsed", kind = "u16" },
  { field = "members", kind = "rest" },
  { field = "missing", kind = "u16" },
  { field = "mode", kind = "u8" },
  { field = "name", kind = "str" },
  { field = "names", kind = "u16" },
  { field = "nicMissed", kind = "u32" },
  { field = "nicOversize", kind = "u32" },
  { field = "nicRunts", kind = "u32" },
  { field = "nonce", kind = "u64" },
  { field = "offset_u16", kind = "u16" },
  { field = "offset_u32", kind = "u32" },
  { field = "offset_u64", kind = "u64" },
  { field = "oldest", kind = "u32" },
  { field = "op", kind = "u64" },
  { field = "opens", kind = "u32" },
  { field = "outcome", kind = "u8" },
  { field = "pad_u16", kind = "u16" },
  { field = "pad_u8", kind = "u8" },
  { field = "pages", kind = "u32" },
  { field = "peerCore", kind = "u16" },
  { field = "peerMac", kind = "mac" },
  { field = "perfMs", kind = "u32" },
  { field = "phase", kind = "u8" },
  { field = "poolFree", kind = "u16" },
  { field = "poolTotal", kind = "u16" },
  { field = "prefix", kind = "str" },
  { field = "protoVersion", kind = "u8" },
  { field = "query", kind = "u32" },
  { field = "reads", kind = "u32" },
  { field = "reason", kind = "u8" },
  { field = "received", kind = "u32" },
  { field = "refused", kind = "u32" },
  { field = "replayed", kind = "u32" },
  { field = "reports", kind = "u32" },
  { field = "requests", kind = "u32" },
  { field = "resent", kind = "u32" },
  { field = "restarted", kind = "u8" },
  { field = "rights", kind = "u8" },
  { field = "rip", kind = "u64" },
  { field = "runNs", kind = "u64" },
  { field = "self", kind = "u16" },
  { field = "seq", kind = "u32" },
  { field = "server", kind = "mac" },
  { field = "serverMac", kind = "mac" },
  { field = "service", kind = "str" },
  { field = "serviceCpuNs", kind = "u64" },
  { field = "sha256", kind = "bytes" },
  { field = "size_u32", kind = "u32" },
  { field = "size_u64", kind = "u64" },
  { field = "slotBytes", kind = "u32" },
  { field = "slots", kind = "u16" },
  { field = "source", kind = "u8" },
  { field = "startNs", kind = "u64" },
  { field = "state", kind = "u8" },
  { field = "stateLen", kind = "u32" },
  { field = "status", kind = "u16" },
  { field = "storageRefused", kind = "u32" },
  { field = "store", kind = "u8" },
  { field = "stream", kind = "u32" },
  { field = "text", kind = "str" },
  { field = "timeoutMs", kind = "u16" },
  { field = "total", kind = "u32" },
  { field = "unauthorized", kind = "u32" },
  { field = "upTo", kind = "u32" },
  { field = "uptimeNs", kind = "u64" },
  { field = "value_str", kind = "str" },
  { field = "value_u64", kind = "u64" },
  { field = "var", kind = "u8" },
  { field = "vars", kind = "bytes" },
  { field = "view", kind = "u32" },
  { field = "what", kind = "u8" },
  { field = "whoCore", kind = "u16" },
  { field = "whoMac", kind = "mac" },
  { field = "windowNs", kind = "u64" },
  { field = "writeVar", kind = "u8" },
  { field = "writes", kind = "u32" },
  { field = "xfers", kind = "u32" },
  { field = "yes", kind = "u16" },
}
local KIND_SIZE = { u8 = 1, u16 = 2, u32 = 4, u64 = 8, i32 = 4, mac = 6, rest = 0 }
-- one row a message: channel (0 signaling, 1 data), instruction type, name, sender, scopes,
-- doc, request (or event) layout, response layout (nil: none); see MESSAGES below
local MESSAGE_ROWS = {
  { 0, 0x01, "DISCOVER", "orchestrator", "system dime", "Who is there? System scope: every DIME of the server answers, one response each.", {}, { { "dime", "u16" }, { "cores", "u16" }, { "apicId", "u16" }, { "state", "u8" }, { "flags", "u8" }, { "memLimit", "u16" }, { "memUsed", "u16" }, { "poolFree", "u16" }, { "poolTotal", "u16" }, { "heartbeatMs", "u32" }, { "perfMs", "u32" }, { "uptimeNs", "u64" }, { "serverMac", "mac" }, { "protoVersion", "u8" }, { "pad", "u8", field = "pad_u8" }, { "service", "str", 16 } } },
  { 0, 0x02, "HEARTBEAT", "dime", "dime", "Fault management: each DIME broadcasts one every heartbeat interval (EVENT flag).", { { "dime", "u16" }, { "state", "u8" }, { "pad", "u8", field = "pad_u8" }, { "beat", "u32" }, { "uptimeNs", "u64" }, { "intervalMs", "u32" }, { "cpuPermille", "u16" }, { "memUsed", "u16" }, { "service", "str", 16 } }, nil },
  { 0, 0x03, "SET_HEARTBEAT", "orchestrator", "system dime", "Set the heartbeat interval (ms, 0 = off, else 10..3600000).", { { "intervalMs", "u32" } }, {} },
  { 0, 0x04, "SET_PERF_INTERVAL", "orchestrator", "system dime", "Set the performance broadcast interval (ms, 0 = off, else 10..3600000).", { { "intervalMs", "u32" } }, {} },
  { 0, 0x05, "LOAD_BEGIN", "orchestrator", "dime", "Start loading a service image of `size` bytes; LOAD_CHUNK frames follow on the data channel. The sender becomes the owner of the DIME.", { { "size", "u32", field = "size_u32" }, { "crc32", "u32" }, { "name", "str", 16 } }, { { "chunks", "u16" } } },
  { 0, 0x06, "LOAD_BUILTIN", "orchestrator", "system dime", "Load a service embedded in the kernel image by name. The sender becomes the owner.", { { "name", "str", 16 } }, { { "size", "u32", field = "size_u32" }, { "crc32", "u32" } } },
  { 0, 0x07, "EXECUTE", "orchestrator", "system dime", "Run the loaded image in ring 3 on this DIME (state LOADED -> RUNNING).", {}, {} },
  { 0, 0x08, "SUSPEND", "orchestrator", "system dime", "Stop scheduling the running service (RUNNING -> SUSPENDED); the core halts.", {}, {} },
  { 0, 0x09, "RESUME", "orchestrator", "system dime", "SUSPENDED -> RUNNING.", {}, {} },
  { 0, 0x0A, "STOP", "orchestrator", "system dime", "End the service (or discard a loaded image); all its memory returns to the pool.", {}, {} },
  { 0, 0x0B, "RESET", "orchestrator", "system dime", "STOP, then restore defaults: routes, parameters, memory limit, intervals, owner.", {}, {} },
  { 0, 0x0C, "SET_PARAM", "orchestrator", "system dime", "Set a service parameter (readable by the service at any time; empty value deletes).", { { "key", "str", 16 }, { "value", "str", 64, field = "value_str" } }, {} },
  { 0, 0x0D, "SET_MEMLIMIT", "orchestrator", "system dime", "Set the memory limit in 2 MiB chunks (1..512).", { { "chunks", "u16" } }, {} },
  { 0, 0x0E, "SET_ROUTE", "orchestrator", "dime", "Rewire the service input or output, live.", { { "direction", "u8" }, { "kind", "u8" }, { "core", "u16" }, { "mac", "mac" } }, {} },
  { 0, 0x0F, "QUERY_ACCOUNTING", "orchestrator", "dime", "Accounting: call records with sequence number >= `from` (as many as fit).", { { "from", "u32" } }, { { "total", "u32" }, { "oldest", "u32" }, records = { { "seq", "u32" }, { "whoMac", "mac" }, { "whoCore", "u16" }, { "channel", "u8" }, { "what", "u8" }, { "status", "u16" }, { "startNs", "u64" }, { "endNs", "u64" }, { "cpuNs", "u64" }, { "bytesIn", "u32", field = "bytesIn_u32" }, { "bytesOut", "u32", field = "bytesOut_u32" }, { "service", "str", 16 } } } },
  { 0, 0x10, "QUERY_PERF", "orchestrator", "system dime", "Performance report on request (same layout as PERF).", {}, { { "dime", "u16" }, { "state", "u8" }, { "pad", "u8", field = "pad_u8" }, { "cpuPermille", "u16" }, { "cpuPermilleTotal", "u16" }, { "memUsed", "u16" }, { "memLimit", "u16" }, { "poolFree", "u16" }, { "poolTotal", "u16" }, { "windowNs", "u64" }, { "framesIn", "u32" }, { "framesOut", "u32" }, { "bytesIn", "u64", field = "bytesIn_u64" }, { "bytesOut", "u64", field = "bytesOut_u64" }, { "serviceCpuNs", "u64" }, { "inputQueued", "u32" } } },
  { 0, 0x11, "PERF", "dime", "dime", "Performance broadcast every performance interval (EVENT flag).", { { "dime", "u16" }, { "state", "u8" }, { "pad", "u8", field = "pad_u8" }, { "cpuPermille", "u16" }, { "cpuPermilleTotal", "u16" }, { "memUsed", "u16" }, { "memLimit", "u16" }, { "poolFree", "u16" }, { "poolTotal", "u16" }, { "windowNs", "u64" }, { "framesIn", "u32" }, { "framesOut", "u32" }, { "bytesIn", "u64", field = "bytesIn_u64" }, { "bytesOut", "u64", field = "bytesOut_u64" }, { "serviceCpuNs", "u64" }, { "inputQueued", "u32" } }, nil },
  { 0, 0x12, "ALARM", "dime", "dime", "Fault / security / resource alarm (EVENT flag), broadcast.", { { "dime", "u16" }, { "kind", "u8" }, { "code", "u8" }, { "detail", "u64" }, { "rip", "u64" }, { "peerMac", "mac" }, { "peerCore", "u16" }, { "count", "u32", field = "count_u32" }, { "text", "str", 32 } }, nil },
  { 0, 0x13, "SERVICE_EXIT", "dime", "dime", "A service ended (EVENT flag, broadcast like every event).", { { "dime", "u16" }, { "reason", "u8" }, { "pad", "u8", field = "pad_u8" }, { "exitCode", "i32" }, { "runNs", "u64" }, { "cpuNs", "u64" }, { "bytesIn", "u64", field = "bytesIn_u64" }, { "bytesOut", "u64", field = "bytesOut_u64" }, { "service", "str", 16 } }, nil },
  { 0, 0x14, "QUERY_SECURITY", "orchestrator", "dime", "Security counters of this DIME.", {}, { { "accepted", "u32" }, { "forged", "u32" }, { "replayed", "u32" }, { "unauthorized", "u32" }, { "malformed", "u32" }, { "alarms", "u32" }, { "nicOversize", "u32" }, { "nicMissed", "u32" }, { "challenged", "u32" }, { "reports", "u32" }, { "inboxDropped", "u32" }, { "ignored", "u32" }, { "epochChanges", "u32" }, { "epochNow", "u64" }, { "nicRunts", "u32" }, { "lineDuplicates", "u32" }, { "lineGaps", "u32" }, { "lineRefused", "u32" }, { "lineAcksRefused", "u32" }, { "linesHeld", "u32" }, { "storageRefused", "u32" } } },
  { 0, 0x15, "PING", "any", "system dime", "Echo (signaling round trip).", { { "nonce", "u64" } }, { { "nonce", "u64" } } },
  { 0, 0x16, "SHUTDOWN", "orchestrator", "system", "Power the server off (writes the debug-exit port, then halts every core).", { { "code", "u8" } }, {} },
  { 0, 0x20, "COLL_START", "orchestrator", "dime", "Start a collective (XFER-AND-SIGNAL, COMPARE-AND-WRITE, barrier, the launch steps of a service image) on a set of DIMEs. Sent to the first member, which coordinates it over a tree of the members; answered when it is over. A repeat with the same op is answered once it is over (docs/COLLECTIVES.md).", { { "op", "u64" }, { "kind", "u8" }, { "fanout", "u8" }, { "count", "u16", field = "count_u16" }, { "event", "u16" }, { "offset", "u16", field = "offset_u16" }, { "dataLen", "u16" }, { "var", "u8" }, { "cmp", "u8" }, { "writeVar", "u8" }, { "pad", "u8", field = "pad_u8" }, { "timeoutMs", "u16" }, { "compare", "u64" }, { "value", "u64", field = "value_u64" }, { "members", "rest" } }, { { "outcome", "u8" }, { "pad", "u8", field = "pad_u8" }, { "answered", "u16" }, { "yes", "u16" }, { "missing", "u16" } } },
  { 0, 0x1B, "NAME_FLEET", "orchestrator", "dime", "Tell a DIME the name fleet's membership (a view): member 0 is the primary. A DIME in the list is a member and keeps a replica of the name table; a DIME not in it uses the members to resolve names (and caches the answers). count 0: forget the fleet.", { { "view", "u32" }, { "count", "u16", field = "count_u16" }, { "pad", "u16", field = "pad_u16" }, { "members", "rest" } }, { { "applied", "u32" } } },
  { 0, 0x1C, "NAME_REGISTER", "orchestrator", "dime", "Bind a name to a DIME. Sent to the primary (member 0; others answer BAD_STATE), which gives it the next sequence number and answers once every live member holds it. Idempotent: the same binding again is answered with its sequence number.", { { "name", "str", 32 }, { "server", "mac" }, { "core", "u16" } }, { { "seq", "u32" }, { "acked", "u16" }, { "live", "u16" } } },
  { 0, 0x1D, "NAME_RESOLVE", "any", "dime", "What DIME a name is bound to. A member answers from its replica (BAD_STATE while it is still catching up); any other DIME answers from its kernel cache (TTL) or asks a member.", { { "name", "str", 32 } }, { { "server", "mac" }, { "core", "u16" }, { "seq", "u32" }, { "source", "u8" }, { "pad", "u8", field = "pad_u8" } } },
  { 0, 0x23, "NAME_STATUS", "any", "dime", "A DIME's view of the name fleet and its replica's bindings from index `first` (as many as fit).", { { "first", "u16" } }, { { "view", "u32" }, { "self", "u16" }, { "count", "u16", field = "count_u16" }, { "applied", "u32" }, { "head", "u32" }, { "names", "u16" }, { "live", "u16" }, { "deaths", "u32" }, { "refused", "u32" }, { "cacheHits", "u32" }, { "cacheMisses", "u32" }, records = { { "name", "str", 32 }, { "server", "mac" }, { "core", "u16" }, { "seq", "u32" } } } },
  { 0, 0x21, "TEST_EVENT", "any", "dime", "How many times an event of this DIME was signalled by XFER-AND-SIGNAL (non-blocking).", { { "event", "u16" } }, { { "count", "u32", field = "count_u32" } } },
  { 0, 0x22, "COLL_READ", "any", "dime", "Read this DIME's global variables and a range of its global memory.", { { "offset", "u16", field = "offset_u16" }, { "len", "u16" } }, { { "vars", "bytes", 64 }, { "xfers", "u32" }, { "writes", "u32" }, { "data", "rest" } } },
  { 0, 0x17, "MIGRATE_OUT", "orchestrator", "dime", "Freeze this DIME's running service at its next clean point (in user mode, or blocked in a restartable system call) and move it to DIME `server`/`core`. Same server: memory chunks, registers, routes, numbered-line state and pending input are handed over in kernel memory, the target is left SUSPENDED (RESUME starts it) and frames still reaching this DIME are forwarded there. Another server: the service stays frozen here (mode 2) for MIGRATE_READ, until MIGRATE_END. Owner only; the answer comes after the freeze.", { { "server", "mac" }, { "core", "u16" } }, { { "mode", "u8" }, { "restarted", "u8" }, { "chunks", "u16" }, { "stateLen", "u32" }, { "freezeUs", "u32" }, { "pages", "u32" } } },
  { 0, 0x18, "MIGRATE_IN", "orchestrator", "dime", "Prepare this idle DIME to receive a frozen service of `stateLen` bytes (MIGRATE_CHUNK frames follow); the sender becomes its owner. When complete and its CRC-32 matches, the service is installed SUSPENDED (RESUME starts it).", { { "stateLen", "u32" }, { "crc32", "u32" } }, { { "chunks", "u16" } } },
  { 0, 0x19, "MIGRATE_END", "orchestrator", "dime", "To the DIME a service was frozen on for export: commit 1 = it runs at `server`/`core` now (its memory is returned; frames still reaching this DIME are counted and dropped: their senders hold them and send them again to the new place); commit 0 = abort, the service resumes here as if nothing happened.", { { "commit", "u8" }, { "pad", "u8", field = "pad_u8" }, { "core", "u16" }, { "server", "mac" } }, { { "forwarded", "u32" } } },
  { 0, 0x30, "STORE_GRANT", "orchestrator", "system dime", "Grant (or with rights 0 withdraw) this DIME's service access to the server's local file store: every file whose name starts with `prefix` (empty: every file). Kept like parameters: until changed or RESET.", { { "rights", "u8" }, { "pad", "u8", field = "pad_u8" }, { "prefix", "str", 32 } }, { { "grants", "u16", field = "grants_u16" } } },
  { 0, 0x31, "QUERY_STORAGE", "orchestrator", "system dime", "Local storage: this DIME's I/O accounting since boot and the server's store.", {}, { { "dime", "u16" }, { "store", "u8" }, { "grants", "u8", field = "grants_u8" }, { "opens", "u32" }, { "reads", "u32" }, { "writes", "u32" }, { "bytesRead", "u64" }, { "bytesWritten", "u64" }, { "refused", "u32" }, { "errors", "u32" }, { "diskSectors", "u64" }, { "files", "u16" }, { "slots", "u16" }, { "slotBytes", "u32" }, { "diskRequests", "u64" }, { "diskErrors", "u32" } } },
  { 0, 0x1E, "BOOT_REQUEST", "dime", "system", "The boot firmware asks for an image: to BOOT.multicastMac, srcCore 0, tagged with the server's own key, header epoch = the firmware's random nonce. A boot server answers with the offer (tagged with that server's key, epoch echoed).", { { "firmware", "u16" }, { "pad", "u16", field = "pad_u16" }, { "forged", "u32" }, { "replayed", "u32" } }, { { "size", "u32", field = "size_u32" }, { "chunk", "u16" }, { "pad", "u16", field = "pad_u16" }, { "sha256", "bytes", 32 }, { "name", "str", 16 }, { "cmdline", "str", 256 } } },
  { 0, 0x1F, "BOOT_READ", "dime", "system", "The firmware asks the boot server that made the offer for image bytes [offset, offset+length); answered by BOOT_DATA frames (reqId and epoch echoed). Asked again for what did not arrive.", { { "offset", "u32", field = "offset_u32" }, { "length", "u32", field = "length_u32" } }, nil },
  { 0, 0x38, "CSTORE_GRANT", "orchestrator", "system dime", "Tell this DIME that the central export `name` is served by `server` and what its service may do there (rights 0: forget it). The export server checks every request again: this only lets the DIME find the export and refuse early.", { { "rights", "u8" }, { "pad", "u8", field = "pad_u8" }, { "server", "mac" }, { "name", "str", 32 } }, { { "exports", "u16" } } },
  { 0, 0x39, "QUERY_CSTORE", "orchestrator", "system dime", "Central storage: this DIME's client counters since boot.", {}, { { "dime", "u16" }, { "exports", "u16" }, { "opens", "u32" }, { "reads", "u32" }, { "writes", "u32" }, { "bytesRead", "u64" }, { "bytesWritten", "u64" }, { "requests", "u32" }, { "resent", "u32" }, { "lateAnswers", "u32" }, { "refused", "u32" }, { "errors", "u32" } } },
  { 1, 0x01, "LOAD_CHUNK", "orchestrator", "dime", "Image bytes at `offset`, in order (a repeat of an already received offset is acknowledged again).", { { "offset", "u32", field = "offset_u32" }, { "data", "rest" } }, { { "received", "u32" } } },
  { 1, 0x02, "STREAM", "any", "dime", "Service I/O bytes: to a DIME's input, or a DIME's output to its output route.", { { "data", "rest" } }, nil },
  { 1, 0x03, "STREAM_SEQ", "any", "dime", "One numbered line of a pipeline: to a DIME's input, or a DIME's output to its output route. Delivered at least once, de-duplicated by number (PROTOCOL.md, 'Pipelines that lose nothing').", { { "stream", "u32" }, { "line", "u32" }, { "lineFlags", "u8" }, { "pad", "u8", field = "pad_u8" }, { "data", "rest" } }, nil },
  { 1, 0x04, "STREAM_ACK", "any", "dime", "To the sender of STREAM_SEQ lines: every line up to `upTo` was processed and passed on (and acknowledged in turn by the next stage): the sender forgets them.", { { "stream", "u32" }, { "upTo", "u32" } }, nil },
  { 1, 0x05, "MIGRATE_READ", "orchestrator", "dime", "Read the frozen state of a service frozen for export (MIGRATE_OUT mode 2), at `offset`. Owner only.", { { "offset", "u32", field = "offset_u32" }, { "length", "u16", field = "length_u16" } }, { { "offset", "u32", field = "offset_u32" }, { "data", "rest" } } },
  { 1, 0x06, "MIGRATE_CHUNK", "orchestrator", "dime", "Frozen-state bytes at `offset`, in order (as LOAD_CHUNK). Owner only.", { { "offset", "u32", field = "offset_u32" }, { "data", "rest" } }, { { "received", "u32" } } },
  { 1, 0x09, "NAME_APPEND", "dime", "dime", "Primary to a member: the binding with sequence number `seq`, the member's next after `base` (bindings in between were overwritten later). seq 0: a probe, no binding. Answered with NAME_ACK; resent until answered.", { { "view", "u32" }, { "seq", "u32" }, { "base", "u32" }, { "head", "u32" }, { "name", "str", 32 }, { "server", "mac" }, { "core", "u16" } }, nil },
  { 1, 0x0A, "NAME_ACK", "dime", "dime", "Member to primary: the highest sequence number it has applied (the primary sends what follows).", { { "view", "u32" }, { "applied", "u32" } }, nil },
  { 1, 0x0B, "NAME_QUERY", "dime", "dime", "A DIME's kernel to a fleet member: resolve a name (cache miss). Answered with NAME_ANSWER; asked of the next member when unanswered.", { { "query", "u32" }, { "name", "str", 32 } }, nil },
  { 1, 0x0C, "NAME_ANSWER", "dime", "dime", "A fleet member to the asking kernel: the binding, or found = 0 (no such name), or found = 2 (this member is catching up: ask another).", { { "query", "u32" }, { "found", "u8" }, { "pad", "u8", field = "pad_u8" }, { "core", "u16" }, { "server", "mac" }, { "seq", "u32" } }, nil },
  { 1, 0x10, "COLL_DOWN", "dime", "dime", "One phase of a collective, passed down the tree: the receiver acts (stage, commit, compare, write...), passes it to its children and answers its sender with COLL_UP. Resent until answered; a repeat is answered again.", { { "op", "u64" }, { "phase", "u8" }, { "fanout", "u8" }, { "count", "u16", field = "count_u16" }, { "self", "u16" }, { "event", "u16" }, { "offset", "u16", field = "offset_u16" }, { "dataLen", "u16" }, { "var", "u8" }, { "cmp", "u8" }, { "writeVar", "u8" }, { "pad", "u8", field = "pad_u8" }, { "timeoutMs", "u16" }, { "compare", "u64" }, { "value", "u64", field = "value_u64" }, { "members", "rest" } }, nil },
  { 1, 0x11, "COLL_UP", "dime", "dime", "The answer of a subtree to a COLL_DOWN: how many members answered and how many said yes (prepared, comparison true).", { { "op", "u64" }, { "phase", "u8" }, { "pad", "u8", field = "pad_u8" }, { "self", "u16" }, { "answered", "u16" }, { "yes", "u16" }, { "missing", "u16" } }, nil },
  { 1, 0x30, "BOOT_DATA", "orchestrator", "system", "Boot image bytes at `offset`, answering a BOOT_READ (reqId and the firmware epoch echoed), tagged with the destination server's key.", { { "offset", "u32", field = "offset_u32" }, { "data", "rest" } }, nil },
  { 1, 0x28, "CSTORE_OPEN", "dime", "dime", "Check access to an export (and empty it with TRUNC); answers its size and the rights of the asking DIME.", { { "mode", "u8" }, { "pad", "u8", field = "pad_u8" }, { "name", "str", 32 } }, { { "size", "u64", field = "size_u64" }, { "rights", "u8" } } },
  { 1, 0x29, "CSTORE_READ", "dime", "dime", "Bytes [offset, offset + len) of an export (fewer at its end).", { { "offset", "u64", field = "offset_u64" }, { "len", "u16" }, { "pad", "u16", field = "pad_u16" }, { "name", "str", 32 } }, { { "offset", "u64", field = "offset_u64" }, { "size", "u64", field = "size_u64" }, { "data", "rest" } } },
  { 1, 0x2A, "CSTORE_WRITE", "dime", "dime", "Write bytes at `offset` of an export (grows it). Idempotent: the same bytes at the same place; the server also answers a repeated reqId from its cache.", { { "offset", "u64", field = "offset_u64" }, { "len", "u16" }, { "pad", "u16", field = "pad_u16" }, { "name", "str", 32 }, { "data", "rest" } }, { { "size", "u64", field = "size_u64" } } },
  { 1, 0x2B, "CSTORE_FLUSH", "dime", "dime", "Make the export's bytes durable (fsync on the orchestrator's host); sent by the close of a handle that wrote.", { { "name", "str", 32 } }, { { "size", "u64", field = "size_u64" } } },
}
-- SHA-256 (FIPS 180-4) round constants and initial hash value, from src/dime/kernel/crypto.c
local SHA256_K = {
  0x428A2F98, 0x71374491, 0xB5C0FBCF, 0xE9B5DBA5, 0x3956C25B, 0x59F111F1, 0x923F82A4, 0xAB1C5ED5,
  0xD807AA98, 0x12835B01, 0x243185BE, 0x550C7DC3, 0x72BE5D74, 0x80DEB1FE, 0x9BDC06A7, 0xC19BF174,
  0xE49B69C1, 0xEFBE4786, 0x0FC19DC6, 0x240CA1CC, 0x2DE92C6F, 0x4A7484AA, 0x5CB0A9DC, 0x76F988DA,
  0x983E5152, 0xA831C66D, 0xB00327C8, 0xBF597FC7, 0xC6E00BF3, 0xD5A79147, 0x06CA6351, 0x14292967,
  0x27B70A85, 0x2E1B2138, 0x4D2C6DFC, 0x53380D13, 0x650A7354, 0x766A0ABB, 0x81C2C92E, 0x92722C85,
  0xA2BFE8A1, 0xA81A664B, 0xC24B8B70, 0xC76C51A3, 0xD192E819, 0xD6990624, 0xF40E3585, 0x106AA070,
  0x19A4C116, 0x1E376C08, 0x2748774C, 0x34B0BCB5, 0x391C0CB3, 0x4ED8AA4A, 0x5B9CCA4F, 0x682E6FF3,
  0x748F82EE, 0x78A5636F, 0x84C87814, 0x8CC70208, 0x90BEFFFA, 0xA4506CEB, 0xBEF9A3F7, 0xC67178F2,
}
local SHA256_IV = {
  0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19,
}
-- END GENERATED

-- MESSAGES[channel][type]: the message rows above as the dissector reads them, each layout's
-- fields { name, field, kind, offset, size } placed one after the other as src/protocol/wire.ts
-- place() does, and a repeated record's fields with its length in record_len
local function place(row)
  local fields, offset = {}, 0
  for i, d in ipairs(row) do
    local size = d[3] or KIND_SIZE[d[2]]
    fields[i] = { name = d[1], field = d.field or d[1], kind = d[2], offset = offset, size = size }
    offset = offset + size
  end
  return fields, offset
end

local function layout_of(row)
  if not row then return nil end
  local layout = { fields = place(row) }
  if row.records then layout.records, layout.record_len = place(row.records) end
  return layout
end

local MESSAGES = { [0] = {}, [1] = {} }
for _, r in ipairs(MESSAGE_ROWS) do
  local scopes = " " .. r[5] .. " "
  MESSAGES[r[1]][r[2]] = {
    name = r[3], from = r[4], doc = r[6],
    system = scopes:find(" system ", 1, true) ~= nil, dime = scopes:find(" dime ", 1, true) ~= nil,
    request = layout_of(r[7]), response = layout_of(r[8]),
  }
end

-- ---- HMAC-SHA256 (FIPS 180-4, RFC 2104), only for the optional tag check ----
-- Wireshark's Lua has the LuaBitOp `bit` library in every version (bit32 went with Lua 5.4);
-- its results are signed 32-bit numbers, so every sum goes through tobit.
local band, bxor, bnot, rshift, ror, tobit = bit.band, bit.bxor, bit.bnot, bit.rshift, bit.ror, bit.tobit
local unpack = table.unpack or unpack
-- SHA256_K and SHA256_IV: in the generated block above (the kernel's table)

local function sha256(msg)
  local len = #msg
  local bits = len * 8
  msg = msg .. "\128" .. string.rep("\0", (55 - len) % 64) ..
    string.char(0, 0, 0, math.floor(bits / 2 ^ 32) % 256,
      math.floor(bits / 2 ^ 24) % 256, math.floor(bits / 2 ^ 16) % 256, math.floor(bits / 2 ^ 8) % 256, bits % 256)
  local h = { unpack(SHA256_IV) }
  local w = {}
  for chunk = 1, #msg, 64 do
    for i = 0, 15 do
      local b1, b2, b3, b4 = msg:byte(chunk + 4 * i, chunk + 4 * i + 3)
      w[i] = tobit(b1 * 2 ^ 24 + b2 * 2 ^ 16 + b3 * 2 ^ 8 + b4)
    end
    for i = 16, 63 do
      local s0 = bxor(ror(w[i - 15], 7), ror(w[i - 15], 18), rshift(w[i - 15], 3))
      local s1 = bxor(ror(w[i - 2], 17), ror(w[i - 2], 19), rshift(w[i - 2], 10))
      w[i] = tobit(w[i - 16] + s0 + w[i - 7] + s1)
    end
    local a, b, c, d, e, f, g, hh = unpack(h)
    for i = 0, 63 do
      local t1 = tobit(hh + bxor(ror(e, 6), ror(e, 11), ror(e, 25)) + bxor(band(e, f), band(bnot(e), g)) + SHA256_K[i + 1] + w[i])
      local t2 = tobit(bxor(ror(a, 2), ror(a, 13), ror(a, 22)) + bxor(band(a, b), band(a, c), band(b, c)))
      a, b, c, d, e, f, g, hh = tobit(t1 + t2), a, b, c, tobit(d + t1), e, f, g
    end
    local add = { a, b, c, d, e, f, g, hh }
    for i = 1, 8 do h[i] = tobit(h[i] + add[i]) end
  end
  local out = {}
  for i = 1, 8 do
    out[i] = string.char(band(rshift(h[i], 24), 255), band(rshift(h[i], 16), 255), band(rshift(h[i], 8), 255), band(h[i], 255))
  end
  return table.concat(out)
end

local function xor_pad(key, byte)
  local out = {}
  for i = 1, 64 do out[i] = string.char(bxor(key:byte(i) or 0, byte)) end
  return table.concat(out)
end

local function hmac_sha256(key, msg)
  if #key > 64 then key = sha256(key) end
  return sha256(xor_pad(key, 0x5c) .. sha256(xor_pad(key, 0x36) .. msg))
end

-- HKDF-SHA256 (RFC 5869), one output block, salt as in src/protocol/keys.ts
local KDF_SALT = "parallax/2"
local function hkdf(ikm, info)
  return hmac_sha256(hmac_sha256(KDF_SALT, ikm), info .. "\1")
end

local derived = {}
local function derived_key(master, info)
  local k = master .. "\0" .. info
  if not derived[k] then derived[k] = hkdf(hkdf(master, info), "tag") end
  return derived[k]
end

local function mac_text(raw)
  local parts = {}
  for i = 1, 6 do parts[i] = string.format("%02x", raw:byte(i)) end
  return table.concat(parts, ":")
end

local px = Proto("parallax", "Parallax DIME protocol")

local CHANNEL_NAMES = { [0] = "signaling", [1] = "data" }
local SCOPE_NAMES = { [0] = "system", [1] = "dime" }

-- which names a numeric payload field takes, by message and field (for display only)
local ENUM_FOR = {
  state = STATE_NAMES, reason = EXIT_REASON_NAMES, direction = ROUTE_DIR_NAMES, status = STATUS_NAMES,
  ["SET_ROUTE.kind"] = ROUTE_NAMES, ["ALARM.kind"] = ALARM_KIND_NAMES,
}

local f = {
  ethertype = ProtoField.uint16("parallax.ethertype", "EtherType", base.HEX),
  channel = ProtoField.uint8("parallax.channel", "Channel", base.DEC, CHANNEL_NAMES),
  scope = ProtoField.uint8("parallax.scope", "Scope", base.DEC, SCOPE_NAMES),
  type = ProtoField.uint8("parallax.type", "Instruction type", base.HEX),
  msg = ProtoField.string("parallax.msg", "Message"),
  kind = ProtoField.string("parallax.kind", "Kind"),
  version = ProtoField.uint8("parallax.version", "Version", base.DEC),
  flags = ProtoField.uint8("parallax.flags", "Flags", base.HEX),
  flag_response = ProtoField.bool("parallax.flags.response", "Response", 8, nil, FLAG_RESPONSE),
  flag_event = ProtoField.bool("parallax.flags.event", "Event", 8, nil, FLAG_EVENT),
  dst_core = ProtoField.uint16("parallax.dst_core", "Destination core", base.DEC),
  src_core = ProtoField.uint16("parallax.src_core", "Source core", base.DEC),
  length = ProtoField.uint16("parallax.length", "Payload length", base.DEC),
  seq = ProtoField.uint64("parallax.seq", "Sequence number", base.DEC),
  req_id = ProtoField.uint32("parallax.req_id", "Request id", base.DEC),
  status = ProtoField.uint16("parallax.status", "Status", base.DEC, STATUS_NAMES),
  instance = ProtoField.uint16("parallax.instance", "Sender instance", base.DEC),
  payload = ProtoField.bytes("parallax.payload", "Payload"),
  record = ProtoField.bytes("parallax.record", "Record"),
  tag = ProtoField.bytes("parallax.tag", "Authentication tag (HMAC-SHA256)"),
  tag_valid = ProtoField.bool("parallax.tag_valid", "Tag matches the key derived for this frame"),
  epoch = ProtoField.uint64("parallax.epoch", "Epoch", base.HEX),
  padding = ProtoField.bytes("parallax.padding", "Padding"),
}

-- payload fields, parallax.f.<name>
local payload_fields = {}
local PROTOFIELD_OF_KIND = {
  u8 = function(a, n) return ProtoField.uint8(a, n, base.DEC) end,
  u16 = function(a, n) return ProtoField.uint16(a, n, base.DEC) end,
  u32 = function(a, n) return ProtoField.uint32(a, n, base.DEC) end,
  u64 = function(a, n) return ProtoField.uint64(a, n, base.DEC) end,
  i32 = function(a, n) return ProtoField.int32(a, n, base.DEC) end,
  mac = function(a, n) return ProtoField.ether(a, n) end,
  str = function(a, n) return ProtoField.string(a, n) end,
  bytes = function(a, n) return ProtoField.bytes(a, n) end,
  rest = function(a, n) return ProtoField.bytes(a, n) end,
}
for _, d in ipairs(PAYLOAD_FIELDS) do
  payload_fields[d.field] = PROTOFIELD_OF_KIND[d.kind]("parallax.f." .. d.field, d.field)
end

local all_fields = {}
for _, v in pairs(f) do all_fields[#all_fields + 1] = v end
for _, v in pairs(payload_fields) do all_fields[#all_fields + 1] = v end
px.fields = all_fields

local ex = {
  short = ProtoExpert.new("parallax.short", "Frame shorter than the Parallax header and tag", expert.group.MALFORMED, expert.severity.ERROR),
  version = ProtoExpert.new("parallax.bad_version", "Unknown protocol version", expert.group.MALFORMED, expert.severity.ERROR),
  length = ProtoExpert.new("parallax.bad_length", "Payload length runs past the frame", expert.group.MALFORMED, expert.severity.ERROR),
  unknown = ProtoExpert.new("parallax.unknown_type", "Unknown instruction type", expert.group.UNDECODED, expert.severity.WARN),
  scope = ProtoExpert.new("parallax.bad_scope", "Instruction not defined in this scope", expert.group.PROTOCOL, expert.severity.WARN),
  layout = ProtoExpert.new("parallax.short_payload", "Payload shorter than the message layout", expert.group.MALFORMED, expert.severity.WARN),
  forged = ProtoExpert.new("parallax.bad_tag", "Tag does not match the network key (forged or another key)", expert.group.SECURITY, expert.severity.WARN),
}
px.experts = { ex.short, ex.version, ex.length, ex.unknown, ex.scope, ex.layout, ex.forged }

px.prefs.etherbase = Pref.uint("EtherType block", PX.etherbase_default,
  "Base of the 256 EtherTypes the Parallax protocol uses (low byte zero), as the kernel's etherbase=")
px.prefs.key = Pref.string("Master secret", "", "The orchestrators' master secret (as text); tag keys are derived from it; empty: tags are not checked")

-- the Ethernet header the tag covers lies before our tvb: take it from the eth dissector
local eth_dst_field = Field.new("eth.dst")
local eth_src_field = Field.new("eth.src")

local function last(...)
  local all = { ... }
  return all[#all]
end

local function check_tag(tvb, pinfo, covered_len, tag_range, tree)
  local dst, src = last(eth_dst_field()), last(eth_src_field())
  if not dst or not src then return end
  local et = pinfo.match_uint
  local dst_raw, src_raw = dst.range:bytes():raw(), src.range:bytes():raw()
  local msg = dst_raw .. src_raw .. string.char(rshift(et, 8), band(et, 255)) .. tvb(0, covered_len):bytes():raw()
  -- which key: orchestrator frames (srcCore none) the destination server's, or the network key when
  -- broadcast; DIME frames the network key for a STREAM to another DIME, else the sender's own
  local H = HEADER
  local src_core, dst_core = tvb(H.srcCore.offset, 2):uint(), tvb(H.dstCore.offset, 2):uint()
  local flags = tvb(H.flags.offset, 1):uint()
  local info
  if src_core == PX.core_none then
    info = dst_raw == string.rep("\255", 6) and "network" or ("server " .. mac_text(dst_raw))
  else
    local stream = band(et, PX.channel_data) ~= 0 and band(et, PX.type_mask) == 2 and dst_core ~= PX.core_none and band(flags, 3) == 0
    info = stream and "network" or ("server " .. mac_text(src_raw))
  end
  local ok = hmac_sha256(derived_key(px.prefs.key, info), msg) == tag_range:bytes():raw()
  local item = tree:add(f.tag_valid, ok):set_generated()
  if not ok then item:add_proto_expert_info(ex.forged) end
  return ok
end

local function core_text(c)
  if c == PX.core_none then return "none" end
  return tostring(c)
end

-- adds the fields of one layout found at offset `at` of the tvb; returns the bytes it covered
local function add_fields(tree, tvb, fields, at, avail, msg_name)
  local covered = 0
  for _, d in ipairs(fields) do
    local size = d.size
    if d.kind == "rest" then size = avail - d.offset end
    if d.offset + size > avail then return covered, false end
    if size > 0 then
      local range = tvb(at + d.offset, size)
      local item
      if d.kind == "str" then
        item = tree:add(payload_fields[d.field], range, range:stringz())
      else
        item = tree:add(payload_fields[d.field], range)
      end
      local names = ENUM_FOR[msg_name .. "." .. d.name] or ENUM_FOR[d.name]
      if names and d.kind ~= "str" and size <= 4 then
        local name = names[range:uint()]
        if name then item:append_text(" (" .. name .. ")") end
      end
      covered = d.offset + size
    end
  end
  return covered, true
end

function px.dissector(tvb, pinfo, tree)
  local et = pinfo.match_uint
  local channel = bit.band(et, PX.channel_data) ~= 0 and 1 or 0
  local scope = bit.band(et, PX.scope_dime) ~= 0 and 1 or 0
  local code = bit.band(et, PX.type_mask)
  local m = MESSAGES[channel][code]
  pinfo.cols.protocol = "Parallax"

  local root = tree:add(px, tvb())
  root:add(f.ethertype, et):set_generated()
  root:add(f.channel, channel):set_generated()
  root:add(f.scope, scope):set_generated()
  root:add(f.type, code):set_generated()
  local name = m and m.name or string.format("type 0x%02x", code)
  root:add(f.msg, name):set_generated()
  if not m then root:add_proto_expert_info(ex.unknown) end
  if m and not m[SCOPE_NAMES[scope]] then root:add_proto_expert_info(ex.scope) end

  if tvb:len() < PX.header_len + PX.tag_len then
    root:add_proto_expert_info(ex.short)
    pinfo.cols.info = name .. " [short frame]"
    return tvb:len()
  end
  local H = HEADER
  local flags = tvb(H.flags.offset, 1):uint()
  local kind = bit.band(flags, FLAG_RESPONSE) ~= 0 and "response" or (bit.band(flags, FLAG_EVENT) ~= 0 and "event" or "request")
  root:add(f.kind, kind):set_generated()
  local hdr = root:add(px, tvb(0, PX.header_len), "Header")
  local vitem = hdr:add(f.version, tvb(H.version.offset, 1))
  if tvb(H.version.offset, 1):uint() ~= PX.version then vitem:add_proto_expert_info(ex.version) end
  local fl = hdr:add(f.flags, tvb(H.flags.offset, 1))
  for bitval, flag_name in pairs(FLAG_NAMES) do
    if bit.band(flags, bitval) ~= 0 then fl:append_text(" " .. flag_name) end
  end
  fl:add(f.flag_response, tvb(H.flags.offset, 1))
  fl:add(f.flag_event, tvb(H.flags.offset, 1))
  local dst = tvb(H.dstCore.offset, 2):uint()
  local src = tvb(H.srcCore.offset, 2):uint()
  hdr:add(f.dst_core, tvb(H.dstCore.offset, 2)):append_text(dst == PX.core_none and " (none)" or "")
  hdr:add(f.src_core, tvb(H.srcCore.offset, 2)):append_text(src == PX.core_none and " (none)" or "")
  local len = tvb(H.length.offset, 2):uint()
  local litem = hdr:add(f.length, tvb(H.length.offset, 2))
  hdr:add(f.seq, tvb(H.seq.offset, 8))
  hdr:add(f.req_id, tvb(H.reqId.offset, 4))
  hdr:add(f.status, tvb(H.status.offset, 2))
  hdr:add(f.instance, tvb(H.instance.offset, 2))
  hdr:add(f.epoch, tvb(H.epoch.offset, 8))

  local info = string.format("%s %s (%s), core %s -> %s, seq %s", name, kind, SCOPE_NAMES[scope],
    core_text(src), core_text(dst), tostring(tvb(H.seq.offset, 8):uint64()))
  if kind == "response" then
    local st = tvb(H.status.offset, 2):uint()
    info = info .. ", " .. (STATUS_NAMES[st] or tostring(st))
  end
  pinfo.cols.info = info

  if PX.header_len + len + PX.tag_len > tvb:len() then
    litem:add_proto_expert_info(ex.length)
    return tvb:len()
  end
  if len > 0 then
    local pl = root:add(f.payload, tvb(PX.header_len, len))
    local layout = m and (kind == "response" and m.response or m.request)
    if layout then
      local covered, complete = add_fields(pl, tvb, layout.fields, PX.header_len, len, name)
      if not complete then pl:add_proto_expert_info(ex.layout) end
      if complete and layout.records then
        local n = 0
        while covered + layout.record_len <= len do
          local rec = pl:add(f.record, tvb(PX.header_len + covered, layout.record_len))
          rec:set_text(string.format("Record %d", n))
          add_fields(rec, tvb, layout.records, PX.header_len + covered, layout.record_len, name)
          covered = covered + layout.record_len
          n = n + 1
        end
      end
    end
  end
  local tag_range = tvb(PX.header_len + len, PX.tag_len)
  local tag_item = root:add(f.tag, tag_range)
  if px.prefs.key ~= "" then
    if check_tag(tvb, pinfo, PX.header_len + len, tag_range, tag_item) == false then
      pinfo.cols.info = tostring(pinfo.cols.info) .. " [bad tag]"
    end
  else
    tag_item:append_text(" (not verified: no key set)")
  end
  local used = PX.header_len + len + PX.tag_len
  if tvb:len() > used then root:add(f.padding, tvb(used)) end
  return used
end

-- the 256 EtherTypes of the configured block
local registered_base = nil
local function register_block()
  local ethertype = DissectorTable.get("ethertype")
  if registered_base then
    for t = 0, 255 do ethertype:remove(registered_base + t, px) end
  end
  registered_base = bit.band(px.prefs.etherbase, PX.block_mask)
  for t = 0, 255 do ethertype:add(registered_base + t, px) end
end

function px.prefs_changed()
  if bit.band(px.prefs.etherbase, PX.block_mask) ~= registered_base then register_block() end
end

register_block()
