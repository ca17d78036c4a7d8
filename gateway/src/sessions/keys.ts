// Redis key layout. Every key of one session carries the session id as its hash tag ({…}), so on Redis
// Cluster a session's keys share one hash slot and single-session operations stay single-slot. The
// per-backend index has its own tag (the backend id): it lives in another slot, so the gateway never puts
// a session key and an index key in one multi-key command (no CROSSSLOT errors on Cluster).
//
//   <prefix>s:{<session id>}   string: the SessionRecord as compact JSON, with PX = session TTL (sliding)
//   <prefix>c:{<session id>}   string: a resume claim (--session-resume), PX = the resume deadline; one
//                              replica at a time opens a new upstream session for the id (same slot)
//   <prefix>b:{<backend id>}   sorted set: session ids of that backend, score = expiry (epoch ms); no tasks
//   <prefix>p:{<principal>}    sorted set: session ids a principal created, score = expiry (auth on only);
//                              no tasks (a task is not a session: no quota, no placement weight)
//   <prefix>r:{<principal>}    hash: the principal's request-rate token bucket
//   <prefix>events             pub/sub channel: invalidations between gateway replicas
//   <prefix>replicas           hash: replica id -> its heartbeat as JSON (with its own expiry); lapsed
//                              entries are removed by whoever reads them (status page)
//   <prefix>epoch              string: a random id written once per store lifetime; a new one means the
//                              store lost its data, and replicas write back what they know
export class KeyLayout {
  readonly prefix: string;
  constructor(prefix: string) {
    this.prefix = prefix;
  }
  session(id: string): string {
    return `${this.prefix}s:{${id}}`;
  }
  resumeClaim(id: string): string {
    return `${this.prefix}c:{${id}}`;
  }
  backendIndex(backend: string): string {
    return `${this.prefix}b:{${backend}}`;
  }
  principalIndex(principal: string): string {
    return `${this.prefix}p:{${principal}}`;
  }
  bucket(key: string): string {
    return `${this.prefix}r:{${key}}`;
  }
  get channel(): string {
    return `${this.prefix}events`;
  }
  get replicas(): string {
    return `${this.prefix}replicas`;
  }
  get epoch(): string {
    return `${this.prefix}epoch`;
  }
}
