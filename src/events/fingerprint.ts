// CRC-64-AVRO (Rabin) fingerprint of a schema's canonical JSON, as the AVRO specification
// defines it ("Schema Fingerprints"); used by the single-object encoding header.
// avsc only offers crypto hashes (md5, sha256), hence this small implementation.

const EMPTY = 0xc15d213aa4d7a795n;
const MASK = 0xffffffffffffffffn;

const TABLE: bigint[] = Array.from({ length: 256 }, (_, i) => {
  let fp = BigInt(i);
  for (let j = 0; j < 8; j++) fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n) & MASK);
  return fp;
});

export function rabinFingerprint(text: string): bigint {
  let fp = EMPTY;
  for (const b of new TextEncoder().encode(text)) fp = (fp >> 8n) ^ TABLE[Number((fp ^ BigInt(b)) & 0xffn)]!;
  return fp;
}

/** The 8 bytes of the single-object header: the fingerprint, little-endian. */
export function fingerprintBytes(fp: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, fp, true);
  return out;
}

export function fingerprintHex(fp: bigint): string {
  return fp.toString(16).padStart(16, "0");
}
