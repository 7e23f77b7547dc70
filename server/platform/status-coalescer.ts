import type net from "node:net";

const STATUS_SUFFIX = Buffer.from("/status");

/**
 * Latest-wins at the socket, before the MQTT parser: of the QoS 0 PUBLISHes to a `.../status` topic in
 * one chunk read from a device's socket, only the last goes on to the broker; the earlier ones are cut
 * out by their framing (type byte, remaining length, topic suffix), at a fraction of a microsecond each
 * instead of the ~15 µs a full parse and publish cost in Aedes. A chunk is what one read returned, so a
 * device reading normally loses nothing; a connection that was held (or a device sending several status
 * at once) has its stale status skipped instead of parsed. Every other packet (CONNECT, alarms at QoS 1,
 * `conn`, PINGREQ, a QoS 0 alarm from a non-conforming device) passes untouched and in order.
 */
export function coalesceStatus(socket: net.Socket, dropped: (n: number) => void): void {
  const push = socket.push.bind(socket);
  let carry: Buffer | null = null;
  socket.push = (chunk: Buffer | null, encoding?: BufferEncoding) => {
    if (chunk === null || !Buffer.isBuffer(chunk)) return push(chunk, encoding);
    const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
    carry = null;
    // Complete packets: [start, end, isStatus].
    const starts: number[] = [];
    const ends: number[] = [];
    const status: boolean[] = [];
    let off = 0;
    let lastStatus = -1;
    while (off < buf.length) {
      let i = off + 1;
      let len = 0;
      let mult = 1;
      let complete = false;
      for (; i < buf.length && i < off + 5; i++) {
        const b = buf[i]!;
        len += (b & 0x7f) * mult;
        mult *= 128;
        if ((b & 0x80) === 0) {
          complete = true;
          i++;
          break;
        }
      }
      if (!complete || i + len > buf.length) break;
      const end = i + len;
      let isStatus = false;
      // PUBLISH (type 3) at QoS 0 (flag bits 1-2 clear): topic length, then topic.
      if ((buf[off]! & 0xf6) === 0x30 && len >= 2) {
        const topicLength = (buf[i]! << 8) | buf[i + 1]!;
        const topicEnd = i + 2 + topicLength;
        isStatus = topicEnd <= end && topicLength >= STATUS_SUFFIX.length && buf.compare(STATUS_SUFFIX, 0, STATUS_SUFFIX.length, topicEnd - STATUS_SUFFIX.length, topicEnd) === 0;
      }
      if (isStatus) lastStatus = starts.length;
      starts.push(off);
      ends.push(end);
      status.push(isStatus);
      off = end;
    }
    if (off < buf.length) carry = Buffer.from(buf.subarray(off));
    let drop = 0;
    for (let k = 0; k < status.length; k++) if (status[k] && k !== lastStatus) drop++;
    if (drop === 0) return off === 0 ? true : push(off === buf.length ? buf : buf.subarray(0, off));
    dropped(drop);
    const kept: Buffer[] = [];
    for (let k = 0; k < status.length; k++) if (!status[k] || k === lastStatus) kept.push(buf.subarray(starts[k], ends[k]));
    return push(Buffer.concat(kept));
  };
}
