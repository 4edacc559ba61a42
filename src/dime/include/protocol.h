/* GENERATED from src/protocol/wire.ts by src/protocol/gen-c-header.ts: do not edit. */
/* Parallax wire format. All multi-byte fields are big-endian unless noted. */
#ifndef PARALLAX_PROTOCOL_H
#define PARALLAX_PROTOCOL_H

/* EtherType = base | channel<<7 | scope<<6 | type */
#define PX_ETHERTYPE_BASE_DEFAULT 0xAB00
#define PX_ETHERTYPE_BLOCK_MASK 0xFF00
#define PX_ET_CHANNEL_DATA 0x80
#define PX_ET_SCOPE_DIME 0x40
#define PX_ET_TYPE_MASK 0x3F

#define PX_PROTOCOL_VERSION 6
#define PX_ETH_HEADER_LEN 14
#define PX_TAG_LEN 32
#define PX_MAX_FRAME_LEN 1514
#define PX_MAX_PAYLOAD 1436
#define PX_CORE_NONE 0xFFFF

/* Parallax header, right after the Ethernet header */
#define PX_HDR_VERSION_OFF 0  /* u8: PROTOCOL_VERSION */
#define PX_HDR_FLAGS_OFF 1  /* u8: FLAG_* bits */
#define PX_HDR_DST_CORE_OFF 2  /* u16: destination DIME (core) on the destination server; CORE_NONE = orchestrator / every DIME */
#define PX_HDR_SRC_CORE_OFF 4  /* u16: sending DIME; CORE_NONE = orchestrator */
#define PX_HDR_LENGTH_OFF 6  /* u16: payload bytes (the tag follows the payload) */
#define PX_HDR_SEQ_OFF 8  /* u64: per-sender sequence number, strictly increasing (replay protection) */
#define PX_HDR_REQ_ID_OFF 16  /* u32: request id chosen by the requester, echoed in the response */
#define PX_HDR_STATUS_OFF 20  /* u16: STATUS_* in responses, 0 otherwise */
#define PX_HDR_INSTANCE_OFF 22  /* u16: sender instance: each orchestrator process picks its own (random, nonzero), so processes sharing a MAC have separate sequence spaces; DIMEs send 0 */
#define PX_HDR_EPOCH_OFF 24  /* u64: freshness: the sending server's boot epoch in frames a server sends; the destination server's epoch (as learnt) in commands; 0 = not known yet */
#define PX_HDR_LEN 32

#define PX_FLAG_RESPONSE 1
#define PX_FLAG_EVENT 2

#define PX_STATUS_OK 0
#define PX_STATUS_BAD_STATE 1
#define PX_STATUS_NO_MEMORY 2
#define PX_STATUS_BAD_CHECKSUM 3
#define PX_STATUS_OUT_OF_RANGE 4
#define PX_STATUS_NOT_FOUND 5
#define PX_STATUS_MALFORMED 6
#define PX_STATUS_UNAUTHORIZED 7
#define PX_STATUS_BAD_IMAGE 8
#define PX_STATUS_UNSUPPORTED 9
#define PX_STATUS_STALE_EPOCH 10

#define PX_STATE_IDLE 0
#define PX_STATE_LOADING 1
#define PX_STATE_LOADED 2
#define PX_STATE_RUNNING 3
#define PX_STATE_SUSPENDED 4

#define PX_ROUTE_NONE 0
#define PX_ROUTE_CONSOLE 1
#define PX_ROUTE_DIME 2
#define PX_ROUTE_ORCHESTRATOR 3
#define PX_ROUTE_ANY 4
#define PX_ROUTE_DIR_OUTPUT 0
#define PX_ROUTE_DIR_INPUT 1

#define PX_ALARM_KIND_FAULT 1
#define PX_ALARM_KIND_SECURITY 2
#define PX_ALARM_KIND_RESOURCE 3
#define PX_SECURITY_CODE_FORGED 1
#define PX_SECURITY_CODE_REPLAYED 2
#define PX_SECURITY_CODE_UNAUTHORIZED 3
#define PX_SECURITY_CODE_MALFORMED 4
#define PX_MALFORMED_SHORT 1
#define PX_MALFORMED_VERSION 2
#define PX_MALFORMED_LENGTH 3
#define PX_MALFORMED_NO_SUCH_DIME 4
#define PX_EXIT_REASON_EXITED 0
#define PX_EXIT_REASON_STOPPED 1
#define PX_EXIT_REASON_FAULT 2
#define PX_EXIT_REASON_RESET 3
#define PX_MIGRATE_MODE_LOCAL 1
#define PX_MIGRATE_MODE_EXPORT 2
#define PX_LINE_FLAG_RESTART 1
#define PX_STORE_RIGHT_READ 1
#define PX_STORE_RIGHT_WRITE 2
#define PX_STORE_STATE_NONE 0
#define PX_STORE_STATE_READY 1
#define PX_STORE_STATE_FOREIGN 2
#define PX_STORE_STATE_ERROR 3
#define PX_CSTORE_CHUNK 1024
#define PX_CSTORE_WINDOW 8
#define PX_COLL_KIND_XFER 1
#define PX_COLL_KIND_CAW 2
#define PX_COLL_KIND_BARRIER 3
#define PX_COLL_KIND_LAUNCH_OPEN 4
#define PX_COLL_KIND_LAUNCH_STAGE 5
#define PX_COLL_KIND_LAUNCH_FINISH 6
#define PX_COLL_PHASE_PREPARE 1
#define PX_COLL_PHASE_COMMIT 2
#define PX_COLL_PHASE_ABORT 3
#define PX_COLL_PHASE_COMPARE 4
#define PX_COLL_PHASE_WRITE 5
#define PX_COLL_PHASE_GATHER 6
#define PX_COLL_PHASE_OPEN 7
#define PX_COLL_PHASE_STAGE 8
#define PX_COLL_PHASE_VERIFY 9
#define PX_COLL_PHASE_START 10
#define PX_COLL_PHASE_DISCARD 11
#define PX_COLL_CMP_EQ 0
#define PX_COLL_CMP_NE 1
#define PX_COLL_CMP_LT 2
#define PX_COLL_CMP_GE 3
#define PX_COLL_OUTCOME_ABORTED 0
#define PX_COLL_OUTCOME_DONE 1
#define PX_COLL_OUTCOME_FALSE 2
#define PX_COLL_MAX_MEMBERS 64
#define PX_COLL_MEM_BYTES 4096
#define PX_COLL_VARS 8
#define PX_COLL_EVENTS 16
#define PX_COLL_MEMBER_BYTES 8
#define PX_NAME_SOURCE_REPLICA 1
#define PX_NAME_SOURCE_CACHE 2
#define PX_NAME_SOURCE_FLEET 3
#define PX_NAME_MAX_MEMBERS 16
#define PX_NAME_MAX_NAMES 64
#define PX_NAME_CACHE_TTL_MS 2000
#define PX_NAME_BYTES 32
#define PX_BOOT_MCAST_MAC {0x03, 0x50, 0x58, 0x42, 0x4F, 0x54}
#define PX_BOOT_CHUNK 1024
#define PX_BOOT_WINDOW 32
#define PX_BOOT_FIRMWARE_VERSION 1
#define PX_BOOT_MAX_CMDLINE 256

/* service image header (little-endian, read in place) */
#define PX_IMAGE_MAGIC 0x31565344
#define PX_IMAGE_HEADER_LEN 32
#define PX_IMAGE_MAGIC_OFF 0  /* u32: SERVICE_IMAGE.magic */
#define PX_IMAGE_HEADER_LEN_OFF 4  /* u32: 32 */
#define PX_IMAGE_ENTRY_OFF 8  /* u64: entry point (virtual, in the user window) */
#define PX_IMAGE_IMAGE_LEN_OFF 16  /* u32: bytes of the image file (header included) */
#define PX_IMAGE_MEM_LEN_OFF 20  /* u32: bytes of memory from USER_BASE: image + zeroed data */
#define PX_IMAGE_STACK_LEN_OFF 24  /* u32: stack bytes wanted above memLen */
#define PX_IMAGE_TEXT_LEN_OFF 28  /* u32: bytes from USER_BASE that are code (header + text, 4 KiB-aligned): executable and read-only; everything above is data and never executable (NX). 0: the whole file image is code (images made before NX) */
#define PX_IMAGE_LEN 32

/* instruction types; SCOPES: bit 0 system scope allowed, bit 1 DIME scope allowed */

/* DISCOVER: Who is there? System scope: every DIME of the server answers, one response each. */
#define PX_SIG_DISCOVER 0x01
#define PX_DISCOVER_SCOPES 3
#define PX_DISCOVER_FROM_ORCHESTRATOR_ONLY 1
#define PX_DISCOVER_REQ_LEN 0
#define PX_DISCOVER_RESP_DIME_OFF 0  /* u16: answering DIME (core index, 0 = boot core) */
#define PX_DISCOVER_RESP_CORES_OFF 2  /* u16: DIMEs in this server */
#define PX_DISCOVER_RESP_APIC_ID_OFF 4  /* u16: local APIC id of the core */
#define PX_DISCOVER_RESP_STATE_OFF 6  /* u8: STATE_* */
#define PX_DISCOVER_RESP_FLAGS_OFF 7  /* u8: bit 0: heartbeat muted by the service */
#define PX_DISCOVER_RESP_MEM_LIMIT_OFF 8  /* u16: chunk limit */
#define PX_DISCOVER_RESP_MEM_USED_OFF 10  /* u16: chunks owned */
#define PX_DISCOVER_RESP_POOL_FREE_OFF 12  /* u16: free chunks in the server */
#define PX_DISCOVER_RESP_POOL_TOTAL_OFF 14  /* u16: all chunks in the server */
#define PX_DISCOVER_RESP_HEARTBEAT_MS_OFF 16  /* u32: heartbeat interval (0 = off) */
#define PX_DISCOVER_RESP_PERF_MS_OFF 20  /* u32: performance broadcast interval (0 = off) */
#define PX_DISCOVER_RESP_UPTIME_NS_OFF 24  /* u64: since the kernel started */
#define PX_DISCOVER_RESP_SERVER_MAC_OFF 32  /* mac: the server's NIC address */
#define PX_DISCOVER_RESP_PROTO_VERSION_OFF 38  /* u8: PROTOCOL_VERSION */
#define PX_DISCOVER_RESP_PAD_OFF 39  /* u8: zero */
#define PX_DISCOVER_RESP_SERVICE_OFF 40  /* char[16]: name of the loaded/running service, empty when none */
#define PX_DISCOVER_RESP_SERVICE_LEN 16
#define PX_DISCOVER_RESP_LEN 56

/* HEARTBEAT: Fault management: each DIME broadcasts one every heartbeat interval (EVENT flag). */
#define PX_SIG_HEARTBEAT 0x02
#define PX_HEARTBEAT_SCOPES 2
#define PX_HEARTBEAT_FROM_ORCHESTRATOR_ONLY 0
#define PX_HEARTBEAT_REQ_DIME_OFF 0  /* u16: reporting DIME */
#define PX_HEARTBEAT_REQ_STATE_OFF 2  /* u8: STATE_* */
#define PX_HEARTBEAT_REQ_PAD_OFF 3  /* u8: zero */
#define PX_HEARTBEAT_REQ_BEAT_OFF 4  /* u32: heartbeat counter */
#define PX_HEARTBEAT_REQ_UPTIME_NS_OFF 8  /* u64: since the kernel started */
#define PX_HEARTBEAT_REQ_INTERVAL_MS_OFF 16  /* u32: current interval */
#define PX_HEARTBEAT_REQ_CPU_PERMILLE_OFF 20  /* u16: busy time since the previous beat */
#define PX_HEARTBEAT_REQ_MEM_USED_OFF 22  /* u16: chunks owned */
#define PX_HEARTBEAT_REQ_SERVICE_OFF 24  /* char[16]: current service */
#define PX_HEARTBEAT_REQ_SERVICE_LEN 16
#define PX_HEARTBEAT_REQ_LEN 40

/* SET_HEARTBEAT: Set the heartbeat interval (ms, 0 = off, else 10..3600000). */
#define PX_SIG_SET_HEARTBEAT 0x03
#define PX_SET_HEARTBEAT_SCOPES 3
#define PX_SET_HEARTBEAT_FROM_ORCHESTRATOR_ONLY 1
#define PX_SET_HEARTBEAT_REQ_INTERVAL_MS_OFF 0  /* u32: interval */
#define PX_SET_HEARTBEAT_REQ_LEN 4
#define PX_SET_HEARTBEAT_RESP_LEN 0

/* SET_PERF_INTERVAL: Set the performance broadcast interval (ms, 0 = off, else 10..3600000). */
#define PX_SIG_SET_PERF_INTERVAL 0x04
#define PX_SET_PERF_INTERVAL_SCOPES 3
#define PX_SET_PERF_INTERVAL_FROM_ORCHESTRATOR_ONLY 1
#define PX_SET_PERF_INTERVAL_REQ_INTERVAL_MS_OFF 0  /* u32: interval */
#define PX_SET_PERF_INTERVAL_REQ_LEN 4
#define PX_SET_PERF_INTERVAL_RESP_LEN 0

/* LOAD_BEGIN: Start loading a service image of `size` bytes; LOAD_CHUNK frames follow on the data channel. The sender becomes the owner of the DIME. */
#define PX_SIG_LOAD_BEGIN 0x05
#define PX_LOAD_BEGIN_SCOPES 2
#define PX_LOAD_BEGIN_FROM_ORCHESTRATOR_ONLY 1
#define PX_LOAD_BEGIN_REQ_SIZE_OFF 0  /* u32: image bytes */
#define PX_LOAD_BEGIN_REQ_CRC32_OFF 4  /* u32: CRC-32 (IEEE 802.3) of the whole image */
#define PX_LOAD_BEGIN_REQ_NAME_OFF 8  /* char[16]: service name */
#define PX_LOAD_BEGIN_REQ_NAME_LEN 16
#define PX_LOAD_BEGIN_REQ_LEN 24
#define PX_LOAD_BEGIN_RESP_CHUNKS_OFF 0  /* u16: chunks reserved for the image */
#define PX_LOAD_BEGIN_RESP_LEN 2

/* LOAD_BUILTIN: Load a service embedded in the kernel image by name. The sender becomes the owner. */
#define PX_SIG_LOAD_BUILTIN 0x06
#define PX_LOAD_BUILTIN_SCOPES 3
#define PX_LOAD_BUILTIN_FROM_ORCHESTRATOR_ONLY 1
#define PX_LOAD_BUILTIN_REQ_NAME_OFF 0  /* char[16]: built-in service name */
#define PX_LOAD_BUILTIN_REQ_NAME_LEN 16
#define PX_LOAD_BUILTIN_REQ_LEN 16
#define PX_LOAD_BUILTIN_RESP_SIZE_OFF 0  /* u32: image bytes */
#define PX_LOAD_BUILTIN_RESP_CRC32_OFF 4  /* u32: CRC-32 of the image */
#define PX_LOAD_BUILTIN_RESP_LEN 8

/* EXECUTE: Run the loaded image in ring 3 on this DIME (state LOADED -> RUNNING). */
#define PX_SIG_EXECUTE 0x07
#define PX_EXECUTE_SCOPES 3
#define PX_EXECUTE_FROM_ORCHESTRATOR_ONLY 1
#define PX_EXECUTE_REQ_LEN 0
#define PX_EXECUTE_RESP_LEN 0

/* SUSPEND: Stop scheduling the running service (RUNNING -> SUSPENDED); the core halts. */
#define PX_SIG_SUSPEND 0x08
#define PX_SUSPEND_SCOPES 3
#define PX_SUSPEND_FROM_ORCHESTRATOR_ONLY 1
#define PX_SUSPEND_REQ_LEN 0
#define PX_SUSPEND_RESP_LEN 0

/* RESUME: SUSPENDED -> RUNNING. */
#define PX_SIG_RESUME 0x09
#define PX_RESUME_SCOPES 3
#define PX_RESUME_FROM_ORCHESTRATOR_ONLY 1
#define PX_RESUME_REQ_LEN 0
#define PX_RESUME_RESP_LEN 0

/* STOP: End the service (or discard a loaded image); all its memory returns to the pool. */
#define PX_SIG_STOP 0x0A
#define PX_STOP_SCOPES 3
#define PX_STOP_FROM_ORCHESTRATOR_ONLY 1
#define PX_STOP_REQ_LEN 0
#define PX_STOP_RESP_LEN 0

/* RESET: STOP, then restore defaults: routes, parameters, memory limit, intervals, owner. */
#define PX_SIG_RESET 0x0B
#define PX_RESET_SCOPES 3
#define PX_RESET_FROM_ORCHESTRATOR_ONLY 1
#define PX_RESET_REQ_LEN 0
#define PX_RESET_RESP_LEN 0

/* SET_PARAM: Set a service parameter (readable by the service at any time; empty value deletes). */
#define PX_SIG_SET_PARAM 0x0C
#define PX_SET_PARAM_SCOPES 3
#define PX_SET_PARAM_FROM_ORCHESTRATOR_ONLY 1
#define PX_SET_PARAM_REQ_KEY_OFF 0  /* char[16]: parameter name */
#define PX_SET_PARAM_REQ_KEY_LEN 16
#define PX_SET_PARAM_REQ_VALUE_OFF 16  /* char[64]: value */
#define PX_SET_PARAM_REQ_VALUE_LEN 64
#define PX_SET_PARAM_REQ_LEN 80
#define PX_SET_PARAM_RESP_LEN 0

/* SET_MEMLIMIT: Set the memory limit in 2 MiB chunks (1..512). */
#define PX_SIG_SET_MEMLIMIT 0x0D
#define PX_SET_MEMLIMIT_SCOPES 3
#define PX_SET_MEMLIMIT_FROM_ORCHESTRATOR_ONLY 1
#define PX_SET_MEMLIMIT_REQ_CHUNKS_OFF 0  /* u16: limit */
#define PX_SET_MEMLIMIT_REQ_LEN 2
#define PX_SET_MEMLIMIT_RESP_LEN 0

/* SET_ROUTE: Rewire the service input or output, live. */
#define PX_SIG_SET_ROUTE 0x0E
#define PX_SET_ROUTE_SCOPES 2
#define PX_SET_ROUTE_FROM_ORCHESTRATOR_ONLY 1
#define PX_SET_ROUTE_REQ_DIRECTION_OFF 0  /* u8: ROUTE_DIR_* */
#define PX_SET_ROUTE_REQ_KIND_OFF 1  /* u8: ROUTE_* */
#define PX_SET_ROUTE_REQ_CORE_OFF 2  /* u16: DIME number for ROUTE_DIME */
#define PX_SET_ROUTE_REQ_MAC_OFF 4  /* mac: server (ROUTE_DIME) or orchestrator (ROUTE_ORCHESTRATOR) address */
#define PX_SET_ROUTE_REQ_LEN 10
#define PX_SET_ROUTE_RESP_LEN 0

/* QUERY_ACCOUNTING: Accounting: call records with sequence number >= `from` (as many as fit). */
#define PX_SIG_QUERY_ACCOUNTING 0x0F
#define PX_QUERY_ACCOUNTING_SCOPES 2
#define PX_QUERY_ACCOUNTING_FROM_ORCHESTRATOR_ONLY 1
#define PX_QUERY_ACCOUNTING_REQ_FROM_OFF 0  /* u32: first record wanted */
#define PX_QUERY_ACCOUNTING_REQ_LEN 4
#define PX_QUERY_ACCOUNTING_RESP_TOTAL_OFF 0  /* u32: records created since boot */
#define PX_QUERY_ACCOUNTING_RESP_OLDEST_OFF 4  /* u32: oldest record still kept */
#define PX_QUERY_ACCOUNTING_RESP_LEN 8
#define PX_QUERY_ACCOUNTING_RESP_REC_SEQ_OFF 0  /* u32: record number */
#define PX_QUERY_ACCOUNTING_RESP_REC_WHO_MAC_OFF 4  /* mac: requester */
#define PX_QUERY_ACCOUNTING_RESP_REC_WHO_CORE_OFF 10  /* u16: requesting DIME or CORE_NONE */
#define PX_QUERY_ACCOUNTING_RESP_REC_CHANNEL_OFF 12  /* u8: 0 signaling, 1 data */
#define PX_QUERY_ACCOUNTING_RESP_REC_WHAT_OFF 13  /* u8: instruction type */
#define PX_QUERY_ACCOUNTING_RESP_REC_STATUS_OFF 14  /* u16: STATUS_* (for EXECUTE: 0 while running, then EXIT_REASON + 0x100) */
#define PX_QUERY_ACCOUNTING_RESP_REC_START_NS_OFF 16  /* u64: request received */
#define PX_QUERY_ACCOUNTING_RESP_REC_END_NS_OFF 24  /* u64: request finished (service end for EXECUTE; 0 while running) */
#define PX_QUERY_ACCOUNTING_RESP_REC_CPU_NS_OFF 32  /* u64: CPU time spent on it */
#define PX_QUERY_ACCOUNTING_RESP_REC_BYTES_IN_OFF 40  /* u32: bytes in (request frame, or service input) */
#define PX_QUERY_ACCOUNTING_RESP_REC_BYTES_OUT_OFF 44  /* u32: bytes out (response frame, or service output) */
#define PX_QUERY_ACCOUNTING_RESP_REC_SERVICE_OFF 48  /* char[16]: service concerned */
#define PX_QUERY_ACCOUNTING_RESP_REC_SERVICE_LEN 16
#define PX_QUERY_ACCOUNTING_RESP_REC_LEN 64

/* QUERY_PERF: Performance report on request (same layout as PERF). */
#define PX_SIG_QUERY_PERF 0x10
#define PX_QUERY_PERF_SCOPES 3
#define PX_QUERY_PERF_FROM_ORCHESTRATOR_ONLY 1
#define PX_QUERY_PERF_REQ_LEN 0
#define PX_QUERY_PERF_RESP_DIME_OFF 0  /* u16: reporting DIME */
#define PX_QUERY_PERF_RESP_STATE_OFF 2  /* u8: STATE_* */
#define PX_QUERY_PERF_RESP_PAD_OFF 3  /* u8: zero */
#define PX_QUERY_PERF_RESP_CPU_PERMILLE_OFF 4  /* u16: busy (not halted) time over the window, 0..1000 */
#define PX_QUERY_PERF_RESP_CPU_PERMILLE_TOTAL_OFF 6  /* u16: busy time since boot, 0..1000 */
#define PX_QUERY_PERF_RESP_MEM_USED_OFF 8  /* u16: chunks (2 MiB) owned */
#define PX_QUERY_PERF_RESP_MEM_LIMIT_OFF 10  /* u16: chunk limit */
#define PX_QUERY_PERF_RESP_POOL_FREE_OFF 12  /* u16: free chunks in the server */
#define PX_QUERY_PERF_RESP_POOL_TOTAL_OFF 14  /* u16: all chunks in the server */
#define PX_QUERY_PERF_RESP_WINDOW_NS_OFF 16  /* u64: length of the measurement window */
#define PX_QUERY_PERF_RESP_FRAMES_IN_OFF 24  /* u32: frames received by this DIME since boot */
#define PX_QUERY_PERF_RESP_FRAMES_OUT_OFF 28  /* u32: frames sent by this DIME since boot */
#define PX_QUERY_PERF_RESP_BYTES_IN_OFF 32  /* u64: bytes received since boot */
#define PX_QUERY_PERF_RESP_BYTES_OUT_OFF 40  /* u64: bytes sent since boot */
#define PX_QUERY_PERF_RESP_SERVICE_CPU_NS_OFF 48  /* u64: CPU time of the current (or last) service */
#define PX_QUERY_PERF_RESP_INPUT_QUEUED_OFF 56  /* u32: bytes waiting in the service input queue */
#define PX_QUERY_PERF_RESP_LEN 60

/* PERF: Performance broadcast every performance interval (EVENT flag). */
#define PX_SIG_PERF 0x11
#define PX_PERF_SCOPES 2
#define PX_PERF_FROM_ORCHESTRATOR_ONLY 0
#define PX_PERF_REQ_DIME_OFF 0  /* u16: reporting DIME */
#define PX_PERF_REQ_STATE_OFF 2  /* u8: STATE_* */
#define PX_PERF_REQ_PAD_OFF 3  /* u8: zero */
#define PX_PERF_REQ_CPU_PERMILLE_OFF 4  /* u16: busy (not halted) time over the window, 0..1000 */
#define PX_PERF_REQ_CPU_PERMILLE_TOTAL_OFF 6  /* u16: busy time since boot, 0..1000 */
#define PX_PERF_REQ_MEM_USED_OFF 8  /* u16: chunks (2 MiB) owned */
#define PX_PERF_REQ_MEM_LIMIT_OFF 10  /* u16: chunk limit */
#define PX_PERF_REQ_POOL_FREE_OFF 12  /* u16: free chunks in the server */
#define PX_PERF_REQ_POOL_TOTAL_OFF 14  /* u16: all chunks in the server */
#define PX_PERF_REQ_WINDOW_NS_OFF 16  /* u64: length of the measurement window */
#define PX_PERF_REQ_FRAMES_IN_OFF 24  /* u32: frames received by this DIME since boot */
#define PX_PERF_REQ_FRAMES_OUT_OFF 28  /* u32: frames sent by this DIME since boot */
#define PX_PERF_REQ_BYTES_IN_OFF 32  /* u64: bytes received since boot */
#define PX_PERF_REQ_BYTES_OUT_OFF 40  /* u64: bytes sent since boot */
#define PX_PERF_REQ_SERVICE_CPU_NS_OFF 48  /* u64: CPU time of the current (or last) service */
#define PX_PERF_REQ_INPUT_QUEUED_OFF 56  /* u32: bytes waiting in the service input queue */
#define PX_PERF_REQ_LEN 60

/* ALARM: Fault / security / resource alarm (EVENT flag), broadcast. */
#define PX_SIG_ALARM 0x12
#define PX_ALARM_SCOPES 2
#define PX_ALARM_FROM_ORCHESTRATOR_ONLY 0
#define PX_ALARM_REQ_DIME_OFF 0  /* u16: reporting DIME */
#define PX_ALARM_REQ_KIND_OFF 2  /* u8: ALARM_KIND_* */
#define PX_ALARM_REQ_CODE_OFF 3  /* u8: FAULT: exception vector; SECURITY: SECURITY_CODE_* */
#define PX_ALARM_REQ_DETAIL_OFF 4  /* u64: FAULT: faulting address (CR2) or error code; SECURITY: offending sequence number (MALFORMED: MALFORMED_REASON_*); RESOURCE: image size */
#define PX_ALARM_REQ_RIP_OFF 12  /* u64: FAULT: instruction pointer */
#define PX_ALARM_REQ_PEER_MAC_OFF 20  /* mac: SECURITY: claimed sender */
#define PX_ALARM_REQ_PEER_CORE_OFF 26  /* u16: SECURITY: claimed sending DIME */
#define PX_ALARM_REQ_COUNT_OFF 28  /* u32: events of this kind so far (alarmed or not) */
#define PX_ALARM_REQ_TEXT_OFF 32  /* char[32]: human-readable summary */
#define PX_ALARM_REQ_TEXT_LEN 32
#define PX_ALARM_REQ_LEN 64

/* SERVICE_EXIT: A service ended (EVENT flag, broadcast like every event). */
#define PX_SIG_SERVICE_EXIT 0x13
#define PX_SERVICE_EXIT_SCOPES 2
#define PX_SERVICE_EXIT_FROM_ORCHESTRATOR_ONLY 0
#define PX_SERVICE_EXIT_REQ_DIME_OFF 0  /* u16: reporting DIME */
#define PX_SERVICE_EXIT_REQ_REASON_OFF 2  /* u8: EXIT_REASON_* */
#define PX_SERVICE_EXIT_REQ_PAD_OFF 3  /* u8: zero */
#define PX_SERVICE_EXIT_REQ_EXIT_CODE_OFF 4  /* i32: value passed to exit() */
#define PX_SERVICE_EXIT_REQ_RUN_NS_OFF 8  /* u64: wall time */
#define PX_SERVICE_EXIT_REQ_CPU_NS_OFF 16  /* u64: CPU time (not halted) */
#define PX_SERVICE_EXIT_REQ_BYTES_IN_OFF 24  /* u64: input consumed */
#define PX_SERVICE_EXIT_REQ_BYTES_OUT_OFF 32  /* u64: output produced */
#define PX_SERVICE_EXIT_REQ_SERVICE_OFF 40  /* char[16]: service name */
#define PX_SERVICE_EXIT_REQ_SERVICE_LEN 16
#define PX_SERVICE_EXIT_REQ_LEN 56

/* QUERY_SECURITY: Security counters of this DIME. */
#define PX_SIG_QUERY_SECURITY 0x14
#define PX_QUERY_SECURITY_SCOPES 2
#define PX_QUERY_SECURITY_FROM_ORCHESTRATOR_ONLY 1
#define PX_QUERY_SECURITY_REQ_LEN 0
#define PX_QUERY_SECURITY_RESP_ACCEPTED_OFF 0  /* u32: frames accepted */
#define PX_QUERY_SECURITY_RESP_FORGED_OFF 4  /* u32: dropped: bad tag */
#define PX_QUERY_SECURITY_RESP_REPLAYED_OFF 8  /* u32: dropped: sequence number not above the last seen */
#define PX_QUERY_SECURITY_RESP_UNAUTHORIZED_OFF 12  /* u32: refused: sender not allowed */
#define PX_QUERY_SECURITY_RESP_MALFORMED_OFF 16  /* u32: dropped: bad header or length */
#define PX_QUERY_SECURITY_RESP_ALARMS_OFF 20  /* u32: security alarms sent */
#define PX_QUERY_SECURITY_RESP_NIC_OVERSIZE_OFF 24  /* u32: server-wide: frames the NIC dropped as too long (e1000 ROC), since boot */
#define PX_QUERY_SECURITY_RESP_NIC_MISSED_OFF 28  /* u32: server-wide: frames the NIC dropped for want of a receive descriptor (e1000 MPC), since boot */
#define PX_QUERY_SECURITY_RESP_CHALLENGED_OFF 32  /* u32: commands with epoch 0 (first contact): answered STALE_EPOCH, not executed */
#define PX_QUERY_SECURITY_RESP_REPORTS_OFF 36  /* u32: server-wide: dropped RESPONSE/EVENT-flagged frames (reports are for orchestrators) */
#define PX_QUERY_SECURITY_RESP_INBOX_DROPPED_OFF 40  /* u32: dropped: this DIME's inbox was full */
#define PX_QUERY_SECURITY_RESP_IGNORED_OFF 44  /* u32: server-wide: frames of another EtherType, runts under 14 bytes, our own looped back */
#define PX_QUERY_SECURITY_RESP_EPOCH_CHANGES_OFF 48  /* u32: server-wide: epoch changes since boot (replay-table evictions) */
#define PX_QUERY_SECURITY_RESP_EPOCH_NOW_OFF 52  /* u64: the server's current epoch */
#define PX_QUERY_SECURITY_RESP_NIC_RUNTS_OFF 60  /* u32: server-wide: frames the NIC dropped as shorter than 14 bytes (e1000 RUC; QEMU pads them instead), since boot */
#define PX_QUERY_SECURITY_RESP_LINE_DUPLICATES_OFF 64  /* u32: STREAM_SEQ lines dropped: already received (a replay after failover or a retransmission) */
#define PX_QUERY_SECURITY_RESP_LINE_GAPS_OFF 68  /* u32: STREAM_SEQ lines dropped: out of order (an earlier line is missing; the sender sends it again) */
#define PX_QUERY_SECURITY_RESP_LINE_REFUSED_OFF 72  /* u32: STREAM_SEQ lines dropped: not one line, or no room to remember it (the sender sends it again) */
#define PX_QUERY_SECURITY_RESP_LINE_ACKS_REFUSED_OFF 76  /* u32: STREAM_ACK frames dropped: not from where this DIME sends its output */
#define PX_QUERY_SECURITY_RESP_LINES_HELD_OFF 80  /* u32: output lines held now until acknowledged downstream */
#define PX_QUERY_SECURITY_RESP_STORAGE_REFUSED_OFF 84  /* u32: local store accesses of this DIME's service refused: no grant (docs/STORAGE.md) */
#define PX_QUERY_SECURITY_RESP_LEN 88

/* PING: Echo (signaling round trip). */
#define PX_SIG_PING 0x15
#define PX_PING_SCOPES 3
#define PX_PING_FROM_ORCHESTRATOR_ONLY 0
#define PX_PING_REQ_NONCE_OFF 0  /* u64: echoed */
#define PX_PING_REQ_LEN 8
#define PX_PING_RESP_NONCE_OFF 0  /* u64: the request nonce */
#define PX_PING_RESP_LEN 8

/* SHUTDOWN: Power the server off (writes the debug-exit port, then halts every core). */
#define PX_SIG_SHUTDOWN 0x16
#define PX_SHUTDOWN_SCOPES 1
#define PX_SHUTDOWN_FROM_ORCHESTRATOR_ONLY 1
#define PX_SHUTDOWN_REQ_CODE_OFF 0  /* u8: exit code */
#define PX_SHUTDOWN_REQ_LEN 1
#define PX_SHUTDOWN_RESP_LEN 0

/* COLL_START: Start a collective (XFER-AND-SIGNAL, COMPARE-AND-WRITE, barrier, the launch steps of a service image) on a set of DIMEs. Sent to the first member, which coordinates it over a tree of the members; answered when it is over. A repeat with the same op is answered once it is over (docs/COLLECTIVES.md). */
#define PX_SIG_COLL_START 0x20
#define PX_COLL_START_SCOPES 2
#define PX_COLL_START_FROM_ORCHESTRATOR_ONLY 1
#define PX_COLL_START_REQ_OP_OFF 0  /* u64: operation id chosen by the initiator (nonzero, unique): repeats are recognised by it */
#define PX_COLL_START_REQ_KIND_OFF 8  /* u8: COLL_KIND_* */
#define PX_COLL_START_REQ_FANOUT_OFF 9  /* u8: children per tree node, 1..8 (0 = 2) */
#define PX_COLL_START_REQ_COUNT_OFF 10  /* u16: members (1..64); member 0 is the DIME this is sent to */
#define PX_COLL_START_REQ_EVENT_OFF 12  /* u16: XFER: event signalled on every member (0..15) */
#define PX_COLL_START_REQ_OFFSET_OFF 14  /* u16: XFER: where the block goes in global memory */
#define PX_COLL_START_REQ_DATA_LEN_OFF 16  /* u16: XFER: block bytes (after the member list) */
#define PX_COLL_START_REQ_VAR_OFF 18  /* u8: CAW: global variable compared (0..7) */
#define PX_COLL_START_REQ_CMP_OFF 19  /* u8: CAW: COLL_CMP_* (variable OP compare) */
#define PX_COLL_START_REQ_WRITE_VAR_OFF 20  /* u8: CAW: global variable assigned when the comparison holds on every member */
#define PX_COLL_START_REQ_PAD_OFF 21  /* u8: zero */
#define PX_COLL_START_REQ_TIMEOUT_MS_OFF 22  /* u16: a member silent this long counts as dead (0 = 1000) */
#define PX_COLL_START_REQ_COMPARE_OFF 24  /* u64: CAW: value compared with */
#define PX_COLL_START_REQ_VALUE_OFF 32  /* u64: CAW: value assigned */
#define PX_COLL_START_REQ_MEMBERS_OFF 40  /* rest: count x (mac 6, core u16), then the XFER block (dataLen bytes) */
#define PX_COLL_START_REQ_LEN 40
#define PX_COLL_START_RESP_OUTCOME_OFF 0  /* u8: COLL_OUTCOME_* */
#define PX_COLL_START_RESP_PAD_OFF 1  /* u8: zero */
#define PX_COLL_START_RESP_ANSWERED_OFF 2  /* u16: members that answered the last phase (for an ABORTED XFER: the PREPARE) */
#define PX_COLL_START_RESP_YES_OFF 4  /* u16: of those, how many said yes: XFER holds / applied the block, CAW comparison true / assigned */
#define PX_COLL_START_RESP_MISSING_OFF 6  /* u16: lowest member index that did not answer (0xFFFF: none) */
#define PX_COLL_START_RESP_LEN 8

/* NAME_FLEET: Tell a DIME the name fleet's membership (a view): member 0 is the primary. A DIME in the list is a member and keeps a replica of the name table; a DIME not in it uses the members to resolve names (and caches the answers). count 0: forget the fleet. */
#define PX_SIG_NAME_FLEET 0x1B
#define PX_NAME_FLEET_SCOPES 2
#define PX_NAME_FLEET_FROM_ORCHESTRATOR_ONLY 1
#define PX_NAME_FLEET_REQ_VIEW_OFF 0  /* u32: view number: increases with every membership change; frames of another view are refused */
#define PX_NAME_FLEET_REQ_COUNT_OFF 4  /* u16: members (0..16) */
#define PX_NAME_FLEET_REQ_PAD_OFF 6  /* u16: zero */
#define PX_NAME_FLEET_REQ_MEMBERS_OFF 8  /* rest: count x (mac 6, core u16) */
#define PX_NAME_FLEET_REQ_LEN 8
#define PX_NAME_FLEET_RESP_APPLIED_OFF 0  /* u32: this DIME's replica: highest sequence number applied */
#define PX_NAME_FLEET_RESP_LEN 4

/* NAME_REGISTER: Bind a name to a DIME. Sent to the primary (member 0; others answer BAD_STATE), which gives it the next sequence number and answers once every live member holds it. Idempotent: the same binding again is answered with its sequence number. */
#define PX_SIG_NAME_REGISTER 0x1C
#define PX_NAME_REGISTER_SCOPES 2
#define PX_NAME_REGISTER_FROM_ORCHESTRATOR_ONLY 1
#define PX_NAME_REGISTER_REQ_NAME_OFF 0  /* char[32]: the name */
#define PX_NAME_REGISTER_REQ_NAME_LEN 32
#define PX_NAME_REGISTER_REQ_SERVER_OFF 32  /* mac: server of the named DIME */
#define PX_NAME_REGISTER_REQ_CORE_OFF 38  /* u16: the named DIME */
#define PX_NAME_REGISTER_REQ_LEN 40
#define PX_NAME_REGISTER_RESP_SEQ_OFF 0  /* u32: the binding's sequence number */
#define PX_NAME_REGISTER_RESP_ACKED_OFF 4  /* u16: members holding it (the primary included) */
#define PX_NAME_REGISTER_RESP_LIVE_OFF 6  /* u16: members the primary counts alive */
#define PX_NAME_REGISTER_RESP_LEN 8

/* NAME_RESOLVE: What DIME a name is bound to. A member answers from its replica (BAD_STATE while it is still catching up); any other DIME answers from its kernel cache (TTL) or asks a member. */
#define PX_SIG_NAME_RESOLVE 0x1D
#define PX_NAME_RESOLVE_SCOPES 2
#define PX_NAME_RESOLVE_FROM_ORCHESTRATOR_ONLY 0
#define PX_NAME_RESOLVE_REQ_NAME_OFF 0  /* char[32]: the name */
#define PX_NAME_RESOLVE_REQ_NAME_LEN 32
#define PX_NAME_RESOLVE_REQ_LEN 32
#define PX_NAME_RESOLVE_RESP_SERVER_OFF 0  /* mac: server of the named DIME */
#define PX_NAME_RESOLVE_RESP_CORE_OFF 6  /* u16: the named DIME */
#define PX_NAME_RESOLVE_RESP_SEQ_OFF 8  /* u32: the binding's sequence number */
#define PX_NAME_RESOLVE_RESP_SOURCE_OFF 12  /* u8: NAME_SOURCE_*: who answered */
#define PX_NAME_RESOLVE_RESP_PAD_OFF 13  /* u8: zero */
#define PX_NAME_RESOLVE_RESP_LEN 14

/* NAME_STATUS: A DIME's view of the name fleet and its replica's bindings from index `first` (as many as fit). */
#define PX_SIG_NAME_STATUS 0x23
#define PX_NAME_STATUS_SCOPES 2
#define PX_NAME_STATUS_FROM_ORCHESTRATOR_ONLY 0
#define PX_NAME_STATUS_REQ_FIRST_OFF 0  /* u16: first binding wanted (table order) */
#define PX_NAME_STATUS_REQ_LEN 2
#define PX_NAME_STATUS_RESP_VIEW_OFF 0  /* u32: view number */
#define PX_NAME_STATUS_RESP_SELF_OFF 4  /* u16: this DIME's member index (0 = primary; 0xFFFF: not a member) */
#define PX_NAME_STATUS_RESP_COUNT_OFF 6  /* u16: members in the view */
#define PX_NAME_STATUS_RESP_APPLIED_OFF 8  /* u32: highest sequence number applied here */
#define PX_NAME_STATUS_RESP_HEAD_OFF 12  /* u32: the primary's highest sequence number, as last heard (a member is caught up when applied >= head) */
#define PX_NAME_STATUS_RESP_NAMES_OFF 16  /* u16: bindings held */
#define PX_NAME_STATUS_RESP_LIVE_OFF 18  /* u16: primary: members it counts alive */
#define PX_NAME_STATUS_RESP_DEATHS_OFF 20  /* u32: primary: members it gave up on (silent past the timeout) */
#define PX_NAME_STATUS_RESP_REFUSED_OFF 24  /* u32: name frames refused here: another view, not from the primary, not from a DIME */
#define PX_NAME_STATUS_RESP_CACHE_HITS_OFF 28  /* u32: resolutions answered from the kernel cache */
#define PX_NAME_STATUS_RESP_CACHE_MISSES_OFF 32  /* u32: resolutions that asked a member */
#define PX_NAME_STATUS_RESP_LEN 36
#define PX_NAME_STATUS_RESP_REC_NAME_OFF 0  /* char[32]: the name */
#define PX_NAME_STATUS_RESP_REC_NAME_LEN 32
#define PX_NAME_STATUS_RESP_REC_SERVER_OFF 32  /* mac: server of the named DIME */
#define PX_NAME_STATUS_RESP_REC_CORE_OFF 38  /* u16: the named DIME */
#define PX_NAME_STATUS_RESP_REC_SEQ_OFF 40  /* u32: the binding's sequence number */
#define PX_NAME_STATUS_RESP_REC_LEN 44

/* TEST_EVENT: How many times an event of this DIME was signalled by XFER-AND-SIGNAL (non-blocking). */
#define PX_SIG_TEST_EVENT 0x21
#define PX_TEST_EVENT_SCOPES 2
#define PX_TEST_EVENT_FROM_ORCHESTRATOR_ONLY 0
#define PX_TEST_EVENT_REQ_EVENT_OFF 0  /* u16: event (0..15) */
#define PX_TEST_EVENT_REQ_LEN 2
#define PX_TEST_EVENT_RESP_COUNT_OFF 0  /* u32: signals so far */
#define PX_TEST_EVENT_RESP_LEN 4

/* COLL_READ: Read this DIME's global variables and a range of its global memory. */
#define PX_SIG_COLL_READ 0x22
#define PX_COLL_READ_SCOPES 2
#define PX_COLL_READ_FROM_ORCHESTRATOR_ONLY 0
#define PX_COLL_READ_REQ_OFFSET_OFF 0  /* u16: first byte of global memory */
#define PX_COLL_READ_REQ_LEN_OFF 2  /* u16: bytes (at most 1024) */
#define PX_COLL_READ_REQ_LEN 4
#define PX_COLL_READ_RESP_VARS_OFF 0  /* u8[64]: the 8 global variables, u64 each */
#define PX_COLL_READ_RESP_VARS_LEN 64
#define PX_COLL_READ_RESP_XFERS_OFF 64  /* u32: XFER blocks applied (committed) here since boot */
#define PX_COLL_READ_RESP_WRITES_OFF 68  /* u32: COMPARE-AND-WRITE assignments applied here since boot */
#define PX_COLL_READ_RESP_DATA_OFF 72  /* rest: the bytes */
#define PX_COLL_READ_RESP_LEN 72

/* MIGRATE_OUT: Freeze this DIME's running service at its next clean point (in user mode, or blocked in a restartable system call) and move it to DIME `server`/`core`. Same server: memory chunks, registers, routes, numbered-line state and pending input are handed over in kernel memory, the target is left SUSPENDED (RESUME starts it) and frames still reaching this DIME are forwarded there. Another server: the service stays frozen here (mode 2) for MIGRATE_READ, until MIGRATE_END. Owner only; the answer comes after the freeze. */
#define PX_SIG_MIGRATE_OUT 0x17
#define PX_MIGRATE_OUT_SCOPES 2
#define PX_MIGRATE_OUT_FROM_ORCHESTRATOR_ONLY 1
#define PX_MIGRATE_OUT_REQ_SERVER_OFF 0  /* mac: server of the target DIME */
#define PX_MIGRATE_OUT_REQ_CORE_OFF 6  /* u16: the target DIME */
#define PX_MIGRATE_OUT_REQ_LEN 8
#define PX_MIGRATE_OUT_RESP_MODE_OFF 0  /* u8: MIGRATE_MODE_*: 1 moved within the server, 2 frozen for export */
#define PX_MIGRATE_OUT_RESP_RESTARTED_OFF 1  /* u8: 1: frozen in a system call that the target restarts */
#define PX_MIGRATE_OUT_RESP_CHUNKS_OFF 2  /* u16: memory chunks of the service */
#define PX_MIGRATE_OUT_RESP_STATE_LEN_OFF 4  /* u32: bytes of the frozen state (mode 2: what MIGRATE_READ reads) */
#define PX_MIGRATE_OUT_RESP_FREEZE_US_OFF 8  /* u32: request to freeze, microseconds */
#define PX_MIGRATE_OUT_RESP_PAGES_OFF 12  /* u32: non-zero 4 KiB pages (mode 2: in the state) */
#define PX_MIGRATE_OUT_RESP_LEN 16

/* MIGRATE_IN: Prepare this idle DIME to receive a frozen service of `stateLen` bytes (MIGRATE_CHUNK frames follow); the sender becomes its owner. When complete and its CRC-32 matches, the service is installed SUSPENDED (RESUME starts it). */
#define PX_SIG_MIGRATE_IN 0x18
#define PX_MIGRATE_IN_SCOPES 2
#define PX_MIGRATE_IN_FROM_ORCHESTRATOR_ONLY 1
#define PX_MIGRATE_IN_REQ_STATE_LEN_OFF 0  /* u32: bytes of the frozen state */
#define PX_MIGRATE_IN_REQ_CRC32_OFF 4  /* u32: CRC-32 of the frozen state */
#define PX_MIGRATE_IN_REQ_LEN 8
#define PX_MIGRATE_IN_RESP_CHUNKS_OFF 0  /* u16: chunks reserved for the transfer */
#define PX_MIGRATE_IN_RESP_LEN 2

/* MIGRATE_END: To the DIME a service was frozen on for export: commit 1 = it runs at `server`/`core` now (its memory is returned; frames still reaching this DIME are counted and dropped: their senders hold them and send them again to the new place); commit 0 = abort, the service resumes here as if nothing happened. */
#define PX_SIG_MIGRATE_END 0x19
#define PX_MIGRATE_END_SCOPES 2
#define PX_MIGRATE_END_FROM_ORCHESTRATOR_ONLY 1
#define PX_MIGRATE_END_REQ_COMMIT_OFF 0  /* u8: 1 commit, 0 abort */
#define PX_MIGRATE_END_REQ_PAD_OFF 1  /* u8: zero */
#define PX_MIGRATE_END_REQ_CORE_OFF 2  /* u16: where the service went */
#define PX_MIGRATE_END_REQ_SERVER_OFF 4  /* mac: server of where the service went */
#define PX_MIGRATE_END_REQ_LEN 10
#define PX_MIGRATE_END_RESP_FORWARDED_OFF 0  /* u32: frames forwarded or dropped after the freeze so far */
#define PX_MIGRATE_END_RESP_LEN 4

/* STORE_GRANT: Grant (or with rights 0 withdraw) this DIME's service access to the server's local file store: every file whose name starts with `prefix` (empty: every file). Kept like parameters: until changed or RESET. */
#define PX_SIG_STORE_GRANT 0x30
#define PX_STORE_GRANT_SCOPES 3
#define PX_STORE_GRANT_FROM_ORCHESTRATOR_ONLY 1
#define PX_STORE_GRANT_REQ_RIGHTS_OFF 0  /* u8: STORE_RIGHT_* bits; 0 removes the grant of this prefix */
#define PX_STORE_GRANT_REQ_PAD_OFF 1  /* u8: zero */
#define PX_STORE_GRANT_REQ_PREFIX_OFF 2  /* char[32]: file name prefix */
#define PX_STORE_GRANT_REQ_PREFIX_LEN 32
#define PX_STORE_GRANT_REQ_LEN 34
#define PX_STORE_GRANT_RESP_GRANTS_OFF 0  /* u16: grants this DIME holds now */
#define PX_STORE_GRANT_RESP_LEN 2

/* QUERY_STORAGE: Local storage: this DIME's I/O accounting since boot and the server's store. */
#define PX_SIG_QUERY_STORAGE 0x31
#define PX_QUERY_STORAGE_SCOPES 3
#define PX_QUERY_STORAGE_FROM_ORCHESTRATOR_ONLY 1
#define PX_QUERY_STORAGE_REQ_LEN 0
#define PX_QUERY_STORAGE_RESP_DIME_OFF 0  /* u16: answering DIME */
#define PX_QUERY_STORAGE_RESP_STORE_OFF 2  /* u8: STORE_STATE_*: the server store */
#define PX_QUERY_STORAGE_RESP_GRANTS_OFF 3  /* u8: grants this DIME holds */
#define PX_QUERY_STORAGE_RESP_OPENS_OFF 4  /* u32: files opened by this DIME */
#define PX_QUERY_STORAGE_RESP_READS_OFF 8  /* u32: read calls */
#define PX_QUERY_STORAGE_RESP_WRITES_OFF 12  /* u32: write calls */
#define PX_QUERY_STORAGE_RESP_BYTES_READ_OFF 16  /* u64: bytes read from files */
#define PX_QUERY_STORAGE_RESP_BYTES_WRITTEN_OFF 24  /* u64: bytes written to files */
#define PX_QUERY_STORAGE_RESP_REFUSED_OFF 32  /* u32: accesses refused for want of a grant (each one counted; SECURITY alarms rate-limited) */
#define PX_QUERY_STORAGE_RESP_ERRORS_OFF 36  /* u32: other failed calls (no such file, full, bad handle, disk error) */
#define PX_QUERY_STORAGE_RESP_DISK_SECTORS_OFF 40  /* u64: server-wide: capacity of the store disk in 512-byte sectors (0: none) */
#define PX_QUERY_STORAGE_RESP_FILES_OFF 48  /* u16: server-wide: files in the store */
#define PX_QUERY_STORAGE_RESP_SLOTS_OFF 50  /* u16: server-wide: file slots of the store */
#define PX_QUERY_STORAGE_RESP_SLOT_BYTES_OFF 52  /* u32: server-wide: largest file size */
#define PX_QUERY_STORAGE_RESP_DISK_REQUESTS_OFF 56  /* u64: server-wide: virtio-blk requests since boot */
#define PX_QUERY_STORAGE_RESP_DISK_ERRORS_OFF 64  /* u32: server-wide: virtio-blk requests that failed */
#define PX_QUERY_STORAGE_RESP_LEN 68

/* BOOT_REQUEST: The boot firmware asks for an image: to BOOT.multicastMac, srcCore 0, tagged with the server's own key, header epoch = the firmware's random nonce. A boot server answers with the offer (tagged with that server's key, epoch echoed). */
#define PX_SIG_BOOT_REQUEST 0x1E
#define PX_BOOT_REQUEST_SCOPES 1
#define PX_BOOT_REQUEST_FROM_ORCHESTRATOR_ONLY 0
#define PX_BOOT_REQUEST_REQ_FIRMWARE_OFF 0  /* u16: BOOT.firmwareVersion */
#define PX_BOOT_REQUEST_REQ_PAD_OFF 2  /* u16: zero */
#define PX_BOOT_REQUEST_REQ_FORGED_OFF 4  /* u32: boot frames this firmware refused so far for a bad tag (wrong key, unsigned) */
#define PX_BOOT_REQUEST_REQ_REPLAYED_OFF 8  /* u32: boot frames refused so far for another epoch (replayed from an earlier request) */
#define PX_BOOT_REQUEST_REQ_LEN 12
#define PX_BOOT_REQUEST_RESP_SIZE_OFF 0  /* u32: image bytes */
#define PX_BOOT_REQUEST_RESP_CHUNK_OFF 4  /* u16: image bytes per BOOT_DATA frame */
#define PX_BOOT_REQUEST_RESP_PAD_OFF 6  /* u16: zero */
#define PX_BOOT_REQUEST_RESP_SHA256_OFF 8  /* u8[32]: SHA-256 of the whole image (checked before it is entered) */
#define PX_BOOT_REQUEST_RESP_SHA256_LEN 32
#define PX_BOOT_REQUEST_RESP_NAME_OFF 40  /* char[16]: image name (first word of the Multiboot command line) */
#define PX_BOOT_REQUEST_RESP_NAME_LEN 16
#define PX_BOOT_REQUEST_RESP_CMDLINE_OFF 56  /* char[256]: kernel command line after the name */
#define PX_BOOT_REQUEST_RESP_CMDLINE_LEN 256
#define PX_BOOT_REQUEST_RESP_LEN 312

/* BOOT_READ: The firmware asks the boot server that made the offer for image bytes [offset, offset+length); answered by BOOT_DATA frames (reqId and epoch echoed). Asked again for what did not arrive. */
#define PX_SIG_BOOT_READ 0x1F
#define PX_BOOT_READ_SCOPES 1
#define PX_BOOT_READ_FROM_ORCHESTRATOR_ONLY 0
#define PX_BOOT_READ_REQ_OFFSET_OFF 0  /* u32: first byte wanted (a multiple of the chunk size) */
#define PX_BOOT_READ_REQ_LENGTH_OFF 4  /* u32: bytes wanted (at most BOOT.window chunks) */
#define PX_BOOT_READ_REQ_LEN 8

/* CSTORE_GRANT: Tell this DIME that the central export `name` is served by `server` and what its service may do there (rights 0: forget it). The export server checks every request again: this only lets the DIME find the export and refuse early. */
#define PX_SIG_CSTORE_GRANT 0x38
#define PX_CSTORE_GRANT_SCOPES 3
#define PX_CSTORE_GRANT_FROM_ORCHESTRATOR_ONLY 1
#define PX_CSTORE_GRANT_REQ_RIGHTS_OFF 0  /* u8: STORE_RIGHT_* bits; 0 removes the export from this DIME */
#define PX_CSTORE_GRANT_REQ_PAD_OFF 1  /* u8: zero */
#define PX_CSTORE_GRANT_REQ_SERVER_OFF 2  /* mac: the orchestrator serving the export */
#define PX_CSTORE_GRANT_REQ_NAME_OFF 8  /* char[32]: export name (a service opens it as "@name") */
#define PX_CSTORE_GRANT_REQ_NAME_LEN 32
#define PX_CSTORE_GRANT_REQ_LEN 40
#define PX_CSTORE_GRANT_RESP_EXPORTS_OFF 0  /* u16: central exports this DIME knows now */
#define PX_CSTORE_GRANT_RESP_LEN 2

/* QUERY_CSTORE: Central storage: this DIME's client counters since boot. */
#define PX_SIG_QUERY_CSTORE 0x39
#define PX_QUERY_CSTORE_SCOPES 3
#define PX_QUERY_CSTORE_FROM_ORCHESTRATOR_ONLY 1
#define PX_QUERY_CSTORE_REQ_LEN 0
#define PX_QUERY_CSTORE_RESP_DIME_OFF 0  /* u16: answering DIME */
#define PX_QUERY_CSTORE_RESP_EXPORTS_OFF 2  /* u16: central exports this DIME knows */
#define PX_QUERY_CSTORE_RESP_OPENS_OFF 4  /* u32: central files opened */
#define PX_QUERY_CSTORE_RESP_READS_OFF 8  /* u32: read calls */
#define PX_QUERY_CSTORE_RESP_WRITES_OFF 12  /* u32: write calls */
#define PX_QUERY_CSTORE_RESP_BYTES_READ_OFF 16  /* u64: bytes read */
#define PX_QUERY_CSTORE_RESP_BYTES_WRITTEN_OFF 24  /* u64: bytes written */
#define PX_QUERY_CSTORE_RESP_REQUESTS_OFF 32  /* u32: request frames sent (first tries) */
#define PX_QUERY_CSTORE_RESP_RESENT_OFF 36  /* u32: request frames sent again after a timeout */
#define PX_QUERY_CSTORE_RESP_LATE_ANSWERS_OFF 40  /* u32: answers dropped: duplicate, or for a request given up */
#define PX_QUERY_CSTORE_RESP_REFUSED_OFF 44  /* u32: accesses refused (no grant here, or the export server said UNAUTHORIZED) */
#define PX_QUERY_CSTORE_RESP_ERRORS_OFF 48  /* u32: other failed calls (timeouts after every retry, bad handle, export errors) */
#define PX_QUERY_CSTORE_RESP_LEN 52

/* LOAD_CHUNK: Image bytes at `offset`, in order (a repeat of an already received offset is acknowledged again). */
#define PX_DATA_LOAD_CHUNK 0x01
#define PX_LOAD_CHUNK_SCOPES 2
#define PX_LOAD_CHUNK_FROM_ORCHESTRATOR_ONLY 1
#define PX_LOAD_CHUNK_REQ_OFFSET_OFF 0  /* u32: offset in the image */
#define PX_LOAD_CHUNK_REQ_DATA_OFF 4  /* rest: bytes */
#define PX_LOAD_CHUNK_REQ_LEN 4
#define PX_LOAD_CHUNK_RESP_RECEIVED_OFF 0  /* u32: bytes received so far */
#define PX_LOAD_CHUNK_RESP_LEN 4

/* STREAM: Service I/O bytes: to a DIME's input, or a DIME's output to its output route. */
#define PX_DATA_STREAM 0x02
#define PX_STREAM_SCOPES 2
#define PX_STREAM_FROM_ORCHESTRATOR_ONLY 0
#define PX_STREAM_REQ_DATA_OFF 0  /* rest: bytes */
#define PX_STREAM_REQ_LEN 0

/* STREAM_SEQ: One numbered line of a pipeline: to a DIME's input, or a DIME's output to its output route. Delivered at least once, de-duplicated by number (PROTOCOL.md, 'Pipelines that lose nothing'). */
#define PX_DATA_STREAM_SEQ 0x03
#define PX_STREAM_SEQ_SCOPES 2
#define PX_STREAM_SEQ_FROM_ORCHESTRATOR_ONLY 0
#define PX_STREAM_SEQ_REQ_STREAM_OFF 0  /* u32: stream id, chosen by the pipeline source (nonzero) and kept by every stage */
#define PX_STREAM_SEQ_REQ_LINE_OFF 4  /* u32: line number from 1; a stage's output line n carries the number of its input line n */
#define PX_STREAM_SEQ_REQ_LINE_FLAGS_OFF 8  /* u8: LINE_FLAGS_* */
#define PX_STREAM_SEQ_REQ_PAD_OFF 9  /* u8: zero */
#define PX_STREAM_SEQ_REQ_DATA_OFF 10  /* rest: one line: ends with its only newline */
#define PX_STREAM_SEQ_REQ_LEN 10

/* STREAM_ACK: To the sender of STREAM_SEQ lines: every line up to `upTo` was processed and passed on (and acknowledged in turn by the next stage): the sender forgets them. */
#define PX_DATA_STREAM_ACK 0x04
#define PX_STREAM_ACK_SCOPES 2
#define PX_STREAM_ACK_FROM_ORCHESTRATOR_ONLY 0
#define PX_STREAM_ACK_REQ_STREAM_OFF 0  /* u32: stream id */
#define PX_STREAM_ACK_REQ_UP_TO_OFF 4  /* u32: cumulative: the highest line number done */
#define PX_STREAM_ACK_REQ_LEN 8

/* MIGRATE_READ: Read the frozen state of a service frozen for export (MIGRATE_OUT mode 2), at `offset`. Owner only. */
#define PX_DATA_MIGRATE_READ 0x05
#define PX_MIGRATE_READ_SCOPES 2
#define PX_MIGRATE_READ_FROM_ORCHESTRATOR_ONLY 1
#define PX_MIGRATE_READ_REQ_OFFSET_OFF 0  /* u32: offset in the frozen state */
#define PX_MIGRATE_READ_REQ_LENGTH_OFF 4  /* u16: bytes wanted (at most what fits one frame) */
#define PX_MIGRATE_READ_REQ_LEN 6
#define PX_MIGRATE_READ_RESP_OFFSET_OFF 0  /* u32: offset echoed */
#define PX_MIGRATE_READ_RESP_DATA_OFF 4  /* rest: the bytes */
#define PX_MIGRATE_READ_RESP_LEN 4

/* MIGRATE_CHUNK: Frozen-state bytes at `offset`, in order (as LOAD_CHUNK). Owner only. */
#define PX_DATA_MIGRATE_CHUNK 0x06
#define PX_MIGRATE_CHUNK_SCOPES 2
#define PX_MIGRATE_CHUNK_FROM_ORCHESTRATOR_ONLY 1
#define PX_MIGRATE_CHUNK_REQ_OFFSET_OFF 0  /* u32: offset in the frozen state */
#define PX_MIGRATE_CHUNK_REQ_DATA_OFF 4  /* rest: bytes */
#define PX_MIGRATE_CHUNK_REQ_LEN 4
#define PX_MIGRATE_CHUNK_RESP_RECEIVED_OFF 0  /* u32: bytes received so far */
#define PX_MIGRATE_CHUNK_RESP_LEN 4

/* NAME_APPEND: Primary to a member: the binding with sequence number `seq`, the member's next after `base` (bindings in between were overwritten later). seq 0: a probe, no binding. Answered with NAME_ACK; resent until answered. */
#define PX_DATA_NAME_APPEND 0x09
#define PX_NAME_APPEND_SCOPES 2
#define PX_NAME_APPEND_FROM_ORCHESTRATOR_ONLY 0
#define PX_NAME_APPEND_REQ_VIEW_OFF 0  /* u32: view number */
#define PX_NAME_APPEND_REQ_SEQ_OFF 4  /* u32: the binding's sequence number (0: probe) */
#define PX_NAME_APPEND_REQ_BASE_OFF 8  /* u32: apply only if the member has applied at least this */
#define PX_NAME_APPEND_REQ_HEAD_OFF 12  /* u32: the primary's highest sequence number */
#define PX_NAME_APPEND_REQ_NAME_OFF 16  /* char[32]: the name */
#define PX_NAME_APPEND_REQ_NAME_LEN 32
#define PX_NAME_APPEND_REQ_SERVER_OFF 48  /* mac: server of the named DIME */
#define PX_NAME_APPEND_REQ_CORE_OFF 54  /* u16: the named DIME */
#define PX_NAME_APPEND_REQ_LEN 56

/* NAME_ACK: Member to primary: the highest sequence number it has applied (the primary sends what follows). */
#define PX_DATA_NAME_ACK 0x0A
#define PX_NAME_ACK_SCOPES 2
#define PX_NAME_ACK_FROM_ORCHESTRATOR_ONLY 0
#define PX_NAME_ACK_REQ_VIEW_OFF 0  /* u32: view number */
#define PX_NAME_ACK_REQ_APPLIED_OFF 4  /* u32: highest sequence number applied */
#define PX_NAME_ACK_REQ_LEN 8

/* NAME_QUERY: A DIME's kernel to a fleet member: resolve a name (cache miss). Answered with NAME_ANSWER; asked of the next member when unanswered. */
#define PX_DATA_NAME_QUERY 0x0B
#define PX_NAME_QUERY_SCOPES 2
#define PX_NAME_QUERY_FROM_ORCHESTRATOR_ONLY 0
#define PX_NAME_QUERY_REQ_QUERY_OFF 0  /* u32: query id, echoed */
#define PX_NAME_QUERY_REQ_NAME_OFF 4  /* char[32]: the name */
#define PX_NAME_QUERY_REQ_NAME_LEN 32
#define PX_NAME_QUERY_REQ_LEN 36

/* NAME_ANSWER: A fleet member to the asking kernel: the binding, or found = 0 (no such name), or found = 2 (this member is catching up: ask another). */
#define PX_DATA_NAME_ANSWER 0x0C
#define PX_NAME_ANSWER_SCOPES 2
#define PX_NAME_ANSWER_FROM_ORCHESTRATOR_ONLY 0
#define PX_NAME_ANSWER_REQ_QUERY_OFF 0  /* u32: query id of the NAME_QUERY */
#define PX_NAME_ANSWER_REQ_FOUND_OFF 4  /* u8: 1 bound, 0 unknown name, 2 not caught up */
#define PX_NAME_ANSWER_REQ_PAD_OFF 5  /* u8: zero */
#define PX_NAME_ANSWER_REQ_CORE_OFF 6  /* u16: the named DIME */
#define PX_NAME_ANSWER_REQ_SERVER_OFF 8  /* mac: server of the named DIME */
#define PX_NAME_ANSWER_REQ_SEQ_OFF 14  /* u32: the binding's sequence number */
#define PX_NAME_ANSWER_REQ_LEN 18

/* COLL_DOWN: One phase of a collective, passed down the tree: the receiver acts (stage, commit, compare, write...), passes it to its children and answers its sender with COLL_UP. Resent until answered; a repeat is answered again. */
#define PX_DATA_COLL_DOWN 0x10
#define PX_COLL_DOWN_SCOPES 2
#define PX_COLL_DOWN_FROM_ORCHESTRATOR_ONLY 0
#define PX_COLL_DOWN_REQ_OP_OFF 0  /* u64: operation id */
#define PX_COLL_DOWN_REQ_PHASE_OFF 8  /* u8: COLL_PHASE_* */
#define PX_COLL_DOWN_REQ_FANOUT_OFF 9  /* u8: children per tree node */
#define PX_COLL_DOWN_REQ_COUNT_OFF 10  /* u16: members */
#define PX_COLL_DOWN_REQ_SELF_OFF 12  /* u16: the receiver's index in the member list */
#define PX_COLL_DOWN_REQ_EVENT_OFF 14  /* u16: XFER event */
#define PX_COLL_DOWN_REQ_OFFSET_OFF 16  /* u16: XFER offset */
#define PX_COLL_DOWN_REQ_DATA_LEN_OFF 18  /* u16: XFER block bytes (PREPARE only; 0 otherwise) */
#define PX_COLL_DOWN_REQ_VAR_OFF 20  /* u8: CAW variable compared */
#define PX_COLL_DOWN_REQ_CMP_OFF 21  /* u8: COLL_CMP_* */
#define PX_COLL_DOWN_REQ_WRITE_VAR_OFF 22  /* u8: CAW variable assigned */
#define PX_COLL_DOWN_REQ_PAD_OFF 23  /* u8: zero */
#define PX_COLL_DOWN_REQ_TIMEOUT_MS_OFF 24  /* u16: silence after which a child counts as dead (its children are adopted) */
#define PX_COLL_DOWN_REQ_COMPARE_OFF 26  /* u64: CAW compare value */
#define PX_COLL_DOWN_REQ_VALUE_OFF 34  /* u64: CAW value assigned */
#define PX_COLL_DOWN_REQ_MEMBERS_OFF 42  /* rest: count x (mac 6, core u16), then the block (dataLen bytes) */
#define PX_COLL_DOWN_REQ_LEN 42

/* COLL_UP: The answer of a subtree to a COLL_DOWN: how many members answered and how many said yes (prepared, comparison true). */
#define PX_DATA_COLL_UP 0x11
#define PX_COLL_UP_SCOPES 2
#define PX_COLL_UP_FROM_ORCHESTRATOR_ONLY 0
#define PX_COLL_UP_REQ_OP_OFF 0  /* u64: operation id */
#define PX_COLL_UP_REQ_PHASE_OFF 8  /* u8: COLL_PHASE_* */
#define PX_COLL_UP_REQ_PAD_OFF 9  /* u8: zero */
#define PX_COLL_UP_REQ_SELF_OFF 10  /* u16: the sender's index in the member list */
#define PX_COLL_UP_REQ_ANSWERED_OFF 12  /* u16: members of its subtree that answered (itself included) */
#define PX_COLL_UP_REQ_YES_OFF 14  /* u16: of those, how many voted yes */
#define PX_COLL_UP_REQ_MISSING_OFF 16  /* u16: lowest member index found dead in its subtree (0xFFFF: none) */
#define PX_COLL_UP_REQ_LEN 18

/* BOOT_DATA: Boot image bytes at `offset`, answering a BOOT_READ (reqId and the firmware epoch echoed), tagged with the destination server's key. */
#define PX_DATA_BOOT_DATA 0x30
#define PX_BOOT_DATA_SCOPES 1
#define PX_BOOT_DATA_FROM_ORCHESTRATOR_ONLY 1
#define PX_BOOT_DATA_REQ_OFFSET_OFF 0  /* u32: offset in the image */
#define PX_BOOT_DATA_REQ_DATA_OFF 4  /* rest: bytes (BOOT_REQUEST offer: chunk bytes, fewer at the end) */
#define PX_BOOT_DATA_REQ_LEN 4

/* CSTORE_OPEN: Check access to an export (and empty it with TRUNC); answers its size and the rights of the asking DIME. */
#define PX_DATA_CSTORE_OPEN 0x28
#define PX_CSTORE_OPEN_SCOPES 2
#define PX_CSTORE_OPEN_FROM_ORCHESTRATOR_ONLY 0
#define PX_CSTORE_OPEN_REQ_MODE_OFF 0  /* u8: DIME_O_* bits of the open (READ 1, WRITE 2, CREATE 4, TRUNC 8) */
#define PX_CSTORE_OPEN_REQ_PAD_OFF 1  /* u8: zero */
#define PX_CSTORE_OPEN_REQ_NAME_OFF 2  /* char[32]: export name */
#define PX_CSTORE_OPEN_REQ_NAME_LEN 32
#define PX_CSTORE_OPEN_REQ_LEN 34
#define PX_CSTORE_OPEN_RESP_SIZE_OFF 0  /* u64: bytes in the export */
#define PX_CSTORE_OPEN_RESP_RIGHTS_OFF 8  /* u8: STORE_RIGHT_* of this DIME on it */
#define PX_CSTORE_OPEN_RESP_LEN 9

/* CSTORE_READ: Bytes [offset, offset + len) of an export (fewer at its end). */
#define PX_DATA_CSTORE_READ 0x29
#define PX_CSTORE_READ_SCOPES 2
#define PX_CSTORE_READ_FROM_ORCHESTRATOR_ONLY 0
#define PX_CSTORE_READ_REQ_OFFSET_OFF 0  /* u64: first byte */
#define PX_CSTORE_READ_REQ_LEN_OFF 8  /* u16: bytes wanted (at most 1024) */
#define PX_CSTORE_READ_REQ_PAD_OFF 10  /* u16: zero */
#define PX_CSTORE_READ_REQ_NAME_OFF 12  /* char[32]: export name */
#define PX_CSTORE_READ_REQ_NAME_LEN 32
#define PX_CSTORE_READ_REQ_LEN 44
#define PX_CSTORE_READ_RESP_OFFSET_OFF 0  /* u64: first byte (as asked) */
#define PX_CSTORE_READ_RESP_SIZE_OFF 8  /* u64: bytes in the export now */
#define PX_CSTORE_READ_RESP_DATA_OFF 16  /* rest: the bytes */
#define PX_CSTORE_READ_RESP_LEN 16

/* CSTORE_WRITE: Write bytes at `offset` of an export (grows it). Idempotent: the same bytes at the same place; the server also answers a repeated reqId from its cache. */
#define PX_DATA_CSTORE_WRITE 0x2A
#define PX_CSTORE_WRITE_SCOPES 2
#define PX_CSTORE_WRITE_FROM_ORCHESTRATOR_ONLY 0
#define PX_CSTORE_WRITE_REQ_OFFSET_OFF 0  /* u64: first byte */
#define PX_CSTORE_WRITE_REQ_LEN_OFF 8  /* u16: bytes (at most 1024) */
#define PX_CSTORE_WRITE_REQ_PAD_OFF 10  /* u16: zero */
#define PX_CSTORE_WRITE_REQ_NAME_OFF 12  /* char[32]: export name */
#define PX_CSTORE_WRITE_REQ_NAME_LEN 32
#define PX_CSTORE_WRITE_REQ_DATA_OFF 44  /* rest: the bytes */
#define PX_CSTORE_WRITE_REQ_LEN 44
#define PX_CSTORE_WRITE_RESP_SIZE_OFF 0  /* u64: bytes in the export now */
#define PX_CSTORE_WRITE_RESP_LEN 8

/* CSTORE_FLUSH: Make the export's bytes durable (fsync on the orchestrator's host); sent by the close of a handle that wrote. */
#define PX_DATA_CSTORE_FLUSH 0x2B
#define PX_CSTORE_FLUSH_SCOPES 2
#define PX_CSTORE_FLUSH_FROM_ORCHESTRATOR_ONLY 0
#define PX_CSTORE_FLUSH_REQ_NAME_OFF 0  /* char[32]: export name */
#define PX_CSTORE_FLUSH_REQ_NAME_LEN 32
#define PX_CSTORE_FLUSH_REQ_LEN 32
#define PX_CSTORE_FLUSH_RESP_SIZE_OFF 0  /* u64: bytes in the export */
#define PX_CSTORE_FLUSH_RESP_LEN 8

#endif
