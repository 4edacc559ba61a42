// Reads a classic pcap file with pcap-parser (the reader the issue names), for the tests.
import { Readable } from 'node:stream';

export interface PcapRecord {
  header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number };
  data: Buffer;
}

export interface PcapFile {
  header: Record<string, number>;
  records: PcapRecord[];
}

export async function parsePcap(buf: Buffer): Promise<PcapFile> {
  const { default: pcapParser } = await import('pcap-parser');
  const parser = pcapParser.parse(Readable.from([buf]));
  const records: PcapRecord[] = [];
  let header: Record<string, number> = {};
  parser.on('globalHeader', (h: Record<string, number>) => { header = h; });
  parser.on('packet', (p: PcapRecord) => records.push(p));
  await new Promise<void>((resolve, reject) => { parser.on('end', () => resolve()); parser.on('error', reject); });
  return { header, records };
}
