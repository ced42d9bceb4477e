// 32-bit MurmurHash3 (x86_32) of a string: the one hash the hashing balancers
// and affinity keys use, so a key lands on the same host in every replica of
// the gateway. Strings are hashed as their UTF-8 bytes (computed on the fly,
// no Buffer), so results match other MurmurHash3 implementations on UTF-8.

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** MurmurHash3 x86_32 of the UTF-8 bytes of `text`, as an unsigned 32-bit integer. */
export function murmur3(text: string, seed = 0): number {
  let h = seed >>> 0;
  let k = 0; // the 4-byte block being filled
  let filled = 0; // bytes in k
  let length = 0;

  const mixByte = (byte: number): void => {
    k |= byte << (filled * 8);
    filled++;
    length++;
    if (filled === 4) {
      k = Math.imul(k, C1);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, C2);
      h ^= k;
      h = (h << 13) | (h >>> 19);
      h = (Math.imul(h, 5) + 0xe6546b64) | 0;
      k = 0;
      filled = 0;
    }
  };

  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code < 0x80) {
      mixByte(code);
    } else if (code < 0x800) {
      mixByte(0xc0 | (code >> 6));
      mixByte(0x80 | (code & 0x3f));
    } else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        i++;
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        mixByte(0xf0 | (code >> 18));
        mixByte(0x80 | ((code >> 12) & 0x3f));
        mixByte(0x80 | ((code >> 6) & 0x3f));
        mixByte(0x80 | (code & 0x3f));
      } else {
        mixByte(0xef);
        mixByte(0xbf);
        mixByte(0xbd);
      }
    } else if (code >= 0xd800 && code <= 0xdfff) {
      // A lone surrogate encodes as U+FFFD, as TextEncoder does.
      mixByte(0xef);
      mixByte(0xbf);
      mixByte(0xbd);
    } else {
      mixByte(0xe0 | (code >> 12));
      mixByte(0x80 | ((code >> 6) & 0x3f));
      mixByte(0x80 | (code & 0x3f));
    }
  }

  if (filled > 0) {
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }

  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
