// Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2) in 32-bit integer arithmetic, and
// the Java client's default partition choice for a keyed record: (murmur2(key) & 0x7fffffff) mod
// partitions. @platformatic/kafka's own murmur2 computes the same value with BigInt — about 2.6 KB
// of garbage and a few µs per record on the hot path (bench/profile-gateway.ts heap profile); this
// one allocates nothing. test/kafka/murmur2.test.ts checks it against Kafka's published test
// vectors and against both client libraries' implementations.

const SEED = 0x9747b28c | 0;
const M = 0x5bd1e995;

/** murmur2 of the bytes, as Java's signed 32-bit int */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i << 2;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length & 3;
  if (rest > 0) {
    const at = length & ~3;
    if (rest === 3) h ^= data[at + 2]! << 16;
    if (rest >= 2) h ^= data[at + 1]! << 8;
    h ^= data[at]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * The partitioner function @platformatic/kafka calls with the serialized key: Java's
 * "toPositive(murmur2(key))"; the library then takes it modulo the topic's partition count.
 * A record without a key goes to partition 0 of what the library is given (the sink always sets one).
 */
export function javaCompatiblePartitioner(_message: unknown, key: unknown): number {
  return key instanceof Uint8Array ? murmur2(key) & 0x7fffffff : 0;
}
