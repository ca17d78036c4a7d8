// A small authoritative DNS server (RFC 1035 over UDP) on loopback, for testing DNS discovery against the
// real resolver (node:dns, c-ares) rather than a stub. It answers A, AAAA and SRV (RFC 2782) from a record
// table the test changes while it runs; an unknown name gets NXDOMAIN, a known name without records of the
// asked type gets NOERROR with no answers (NODATA). `failing` makes it answer SERVFAIL to everything.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';

export interface SrvRecord {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

export interface RecordSet {
  a?: string[];
  aaaa?: string[];
  srv?: SrvRecord[];
}

export interface DnsServer {
  /** `127.0.0.1:port`, as --dns-server takes it. */
  address: string;
  /** Records by lower-case name without the trailing dot; replace entries at will. */
  records: Map<string, RecordSet>;
  /** Answer SERVFAIL to every query (a resolver outage). */
  failing: boolean;
  /** Queries answered so far, by "name type". */
  queries: string[];
  close(): Promise<void>;
}

const TYPE = { A: 1, AAAA: 28, SRV: 33 } as const;
const TYPE_NAME: Record<number, string> = { 1: 'A', 28: 'AAAA', 33: 'SRV' };
const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 } as const;
const TTL_SECONDS = 1;

function readName(msg: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let i = offset;
  for (;;) {
    const len = msg[i];
    if (len === undefined) throw new Error('truncated name');
    if (len === 0) return { name: labels.join('.').toLowerCase(), end: i + 1 };
    if ((len & 0xc0) !== 0) throw new Error('compressed question names are not expected');
    labels.push(msg.subarray(i + 1, i + 1 + len).toString('ascii'));
    i += 1 + len;
  }
}

function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.').filter((l) => l.length > 0);
  return Buffer.concat([...parts.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])), Buffer.from([0])]);
}

function ipv6Bytes(addr: string): Buffer {
  const [head, tail] = addr.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** One resource record whose owner is the question name (a pointer to offset 12, RFC 1035 4.1.4). */
function answer(type: number, rdata: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0xc00c, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt16BE(1, 4); // class IN
  head.writeUInt32BE(TTL_SECONDS, 6);
  head.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([head, rdata]);
}

function answersFor(set: RecordSet, qtype: number): Buffer[] {
  if (qtype === TYPE.A) return (set.a ?? []).filter((a) => isIPv4(a)).map((a) => answer(TYPE.A, Buffer.from(a.split('.').map(Number))));
  if (qtype === TYPE.AAAA) return (set.aaaa ?? []).filter((a) => isIPv6(a)).map((a) => answer(TYPE.AAAA, ipv6Bytes(a)));
  if (qtype === TYPE.SRV) {
    return (set.srv ?? []).map((r) => {
      const fixed = Buffer.alloc(6);
      fixed.writeUInt16BE(r.priority, 0);
      fixed.writeUInt16BE(r.weight, 2);
      fixed.writeUInt16BE(r.port, 4);
      return answer(TYPE.SRV, Buffer.concat([fixed, encodeName(r.target)]));
    });
  }
  return [];
}

export async function startDnsServer(): Promise<DnsServer> {
  const socket: Socket = createSocket('udp4');
  const server: DnsServer = {
    address: '',
    records: new Map(),
    failing: false,
    queries: [],
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
  socket.on('message', (msg: Buffer, from: RemoteInfo) => {
    if (msg.length < 12) return;
    let q: { name: string; end: number };
    try {
      q = readName(msg, 12);
    } catch {
      return; // not a query we can read: a real server would answer FORMERR; the resolver retries
    }
    const qtype = msg.readUInt16BE(q.end);
    server.queries.push(`${q.name} ${TYPE_NAME[qtype] ?? qtype}`);
    const question = msg.subarray(12, q.end + 4);
    const set = server.records.get(q.name);
    const rcode = server.failing ? RCODE.SERVFAIL : set ? RCODE.NOERROR : RCODE.NXDOMAIN;
    const answers = set && !server.failing ? answersFor(set, qtype) : [];
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0); // same id
    // QR=1, opcode 0, AA=1, RD copied from the query, RA=1, then the response code.
    header.writeUInt16BE(0x8000 | 0x0400 | (msg.readUInt16BE(2) & 0x0100) | 0x0080 | rcode, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    socket.send(Buffer.concat([header, question, ...answers]), from.port, from.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  server.address = `127.0.0.1:${socket.address().port}`;
  return server;
}
