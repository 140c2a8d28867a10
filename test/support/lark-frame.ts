// The frame of the Lark long connection (protobuf message pbbp2.Frame, as the Lark SDK encodes it):
// SeqID=1, LogID=2, service=3, method=4 (varints), headers=5 (repeated Header{key=1, value=2}),
// payload_encoding=6, payload_type=7, payload=8, LogIDNew=9. A hand-written codec for the fake
// Feishu, so that the test speaks the wire format itself instead of borrowing the SDK's encoder.

export interface LarkFrame {
  SeqID: number;
  LogID: number;
  service: number;
  /** 0: control (ping/pong), 1: data (events). */
  method: number;
  headers: { key: string; value: string }[];
  payload?: Buffer;
}

export function encodeFrame(frame: LarkFrame): Buffer {
  const parts: Buffer[] = [
    varintField(1, frame.SeqID),
    varintField(2, frame.LogID),
    varintField(3, frame.service),
    varintField(4, frame.method),
  ];
  for (const h of frame.headers)
    parts.push(bytesField(5, Buffer.concat([bytesField(1, Buffer.from(h.key)), bytesField(2, Buffer.from(h.value))])));
  if (frame.payload) parts.push(bytesField(8, frame.payload));
  return Buffer.concat(parts);
}

export function decodeFrame(buf: Buffer): LarkFrame {
  const frame: LarkFrame = { SeqID: 0, LogID: 0, service: 0, method: 0, headers: [] };
  for (const [field, value] of fields(buf)) {
    if (field === 1) frame.SeqID = value as number;
    else if (field === 2) frame.LogID = value as number;
    else if (field === 3) frame.service = value as number;
    else if (field === 4) frame.method = value as number;
    else if (field === 5) {
      const header = { key: '', value: '' };
      for (const [f, v] of fields(value as Buffer)) {
        if (f === 1) header.key = (v as Buffer).toString('utf8');
        if (f === 2) header.value = (v as Buffer).toString('utf8');
      }
      frame.headers.push(header);
    } else if (field === 8) frame.payload = value as Buffer;
  }
  return frame;
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  let v = BigInt(n);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (v > 0n);
  return Buffer.from(bytes);
}

function varintField(field: number, n: number): Buffer {
  return Buffer.concat([varint(field << 3), varint(n)]);
}

function bytesField(field: number, data: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(data.length), data]);
}

function* fields(buf: Buffer): Generator<[number, number | Buffer]> {
  let i = 0;
  const readVarint = (): number => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buf[i++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return Number(result);
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = readVarint();
    const field = key >> 3;
    const wire = key & 7;
    if (wire === 0) yield [field, readVarint()];
    else if (wire === 2) {
      const length = readVarint();
      yield [field, buf.subarray(i, i + length)];
      i += length;
    } else throw new Error(`unexpected protobuf wire type ${wire}`);
  }
}
