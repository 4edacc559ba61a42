// Key material of a Parallax network (docs/PROTOCOL.md, "Keys"): one master secret held by
// orchestrators, per-server secrets derived from it with HKDF-SHA256 and handed to each
// server (fw_cfg file `opt/parallax/key`), and the rule that says which tag key signs a frame.
// The kernel implements the same derivation and rule in C (crypto.c hkdf_sha256, net.c
// px_tag_key); test/dime checks both against each other on every frame.
import { hkdfSync } from 'node:crypto';
import * as W from './wire.js';

export const KDF_SALT = 'parallax/2';
/** The built-in master secret of lab mode: public, so anyone on the LAN can command a lab. */
export const LAB_MASTER = 'parallax lab mode: public insecure key';
export const LAB_WARNING = 'LAB MODE: INSECURE built-in public key; anyone on this LAN can command these servers';
export const KEY_FILE_MAGIC = 'parallax-server-key 1';
/** fw_cfg file the kernel reads its server key file from */
export const FW_CFG_KEY_NAME = 'opt/parallax/key';

export function hkdf(ikm: Buffer | string, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(ikm), Buffer.from(KDF_SALT), Buffer.from(info), 32));
}

function normMac(mac: string): string {
  return mac.toLowerCase();
}

/** The secret of one server (what its key file carries), from the master secret. */
export function serverSecret(master: Buffer | string, mac: string): Buffer {
  return hkdf(master, `server ${normMac(mac)}`);
}

export function networkSecret(master: Buffer | string): Buffer {
  return hkdf(master, 'network');
}

/** HMAC key of a secret (the kernel derives the same from what its key file holds). */
export function tagKey(secret: Buffer): Buffer {
  return hkdf(secret, 'tag');
}

/** Text of a server key file (mode 0600): what `parallax keys server` writes and the kernel parses. */
export function serverKeyFile(master: Buffer | string, mac: string): string {
  return `${KEY_FILE_MAGIC}\nmac ${normMac(mac)}\nserver ${serverSecret(master, mac).toString('hex')}\nnetwork ${networkSecret(master).toString('hex')}\n`;
}

export { KeyFileError, readSecretFile } from '../net/secret-file.js';

/** The header fields that pick a frame's tag key. */
export interface TagKeyInput {
  dstMac: string;
  srcMac: string;
  channel: W.Channel;
  code: number;
  flags: number;
  dstCore: number;
  srcCore: number;
}

export type TagKeyChoice = { kind: 'net' } | { kind: 'server'; mac: string };

/** DIME-to-DIME data any server may send another (the network key tags them) */
const DIME_TO_DIME = ['STREAM', 'STREAM_SEQ', 'STREAM_ACK', 'COLL_DOWN', 'COLL_UP',
  'NAME_APPEND', 'NAME_ACK', 'NAME_QUERY', 'NAME_ANSWER'].map((n) => W.messageByName(n).code);
const BROADCAST = 'ff:ff:ff:ff:ff:ff';

/**
 * Which key tags a frame: orchestrator frames (srcCore CORE_NONE) the destination server's key,
 * or the network key when broadcast; DIME frames the network key for a STREAM (STREAM_SEQ,
 * STREAM_ACK, the collectives' COLL_DOWN / COLL_UP, the name fleet's NAME_*) to another DIME,
 * else the sending server's own key.
 */
export function tagKeyChoice(f: TagKeyInput): TagKeyChoice {
  if (f.srcCore === W.CORE_NONE) return normMac(f.dstMac) === BROADCAST ? { kind: 'net' } : { kind: 'server', mac: normMac(f.dstMac) };
  const dimeStream = f.channel === 'data' && DIME_TO_DIME.includes(f.code) && f.dstCore !== W.CORE_NONE && (f.flags & (W.FLAGS.RESPONSE | W.FLAGS.EVENT)) === 0;
  return dimeStream ? { kind: 'net' } : { kind: 'server', mac: normMac(f.srcMac) };
}

/** Tag keys for every server, derived from the master secret (orchestrators and test clients). */
export class KeyRing {
  private readonly perServer = new Map<string, Buffer>();
  readonly netKey: Buffer;

  constructor(private readonly master: Buffer) {
    this.netKey = tagKey(networkSecret(master));
  }

  static fromMaster(master: string | Buffer): KeyRing {
    return new KeyRing(Buffer.from(master));
  }

  serverKey(mac: string): Buffer {
    const m = normMac(mac);
    let k = this.perServer.get(m);
    if (!k) {
      k = tagKey(serverSecret(this.master, m));
      // bounded: a flood of made-up source MACs must not grow this without limit
      if (this.perServer.size >= 4096) this.perServer.clear();
      this.perServer.set(m, k);
    }
    return k;
  }

  keyFor(f: TagKeyInput): Buffer {
    const c = tagKeyChoice(f);
    return c.kind === 'net' ? this.netKey : this.serverKey(c.mac);
  }
}
