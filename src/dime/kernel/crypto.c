/* SHA-256 (FIPS 180-4), HMAC-SHA256 (RFC 2104) and CRC-32 (IEEE 802.3, reflected). */
#include "kernel.h"
#include "crypto.h"

static const uint32_t K[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t ror(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void compress(uint32_t h[8], const uint8_t *blk) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++) w[i] = be32(blk + 4 * i);
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
    uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    k = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}

void sha256_init(struct sha256 *s) {
  static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  memcpy(s->h, iv, sizeof iv);
  s->len = 0;
  s->fill = 0;
}

void sha256_update(struct sha256 *s, const void *data, size_t n) {
  const uint8_t *p = data;
  s->len += n;
  while (n) {
    size_t take = 64 - s->fill;
    if (take > n) take = n;
    memcpy(s->buf + s->fill, p, take);
    s->fill += take; p += take; n -= take;
    if (s->fill == 64) { compress(s->h, s->buf); s->fill = 0; }
  }
}

void sha256_final(struct sha256 *s, uint8_t out[32]) {
  uint64_t bits = s->len * 8;
  uint8_t pad = 0x80;
  sha256_update(s, &pad, 1);
  uint8_t z = 0;
  while (s->fill != 56) sha256_update(s, &z, 1);
  uint8_t lenb[8];
  put_be64(lenb, bits);
  sha256_update(s, lenb, 8);
  for (int i = 0; i < 8; i++) put_be32(out + 4 * i, s->h[i]);
}

void hmac_sha256_key(struct hmac_key *k, const uint8_t *key, size_t n) {
  uint8_t kb[64];
  memset(kb, 0, sizeof kb);
  if (n > 64) {
    struct sha256 s;
    sha256_init(&s);
    sha256_update(&s, key, n);
    sha256_final(&s, kb);
  } else {
    memcpy(kb, key, n);
  }
  uint8_t pad[64];
  for (int i = 0; i < 64; i++) pad[i] = kb[i] ^ 0x36;
  sha256_init(&k->inner);
  sha256_update(&k->inner, pad, 64);
  for (int i = 0; i < 64; i++) pad[i] = kb[i] ^ 0x5c;
  sha256_init(&k->outer);
  sha256_update(&k->outer, pad, 64);
}

void hmac_sha256(const struct hmac_key *k, const void *data, size_t n, uint8_t out[32]) {
  struct sha256 s = k->inner;
  uint8_t ih[32];
  sha256_update(&s, data, n);
  sha256_final(&s, ih);
  s = k->outer;
  sha256_update(&s, ih, 32);
  sha256_final(&s, out);
}

/* comparison whose time does not depend on where the first difference is */
bool tag_equal(const uint8_t *a, const uint8_t *b, size_t n) {
  uint8_t d = 0;
  for (size_t i = 0; i < n; i++) d |= a[i] ^ b[i];
  return d == 0;
}

uint32_t crc32_update(uint32_t crc, const void *data, size_t n) {
  const uint8_t *p = data;
  crc = ~crc;
  while (n--) {
    crc ^= *p++;
    for (int i = 0; i < 8; i++) crc = (crc >> 1) ^ (0xEDB88320u & -(crc & 1));
  }
  return ~crc;
}

/* HKDF-SHA256 (RFC 5869) with one output block: PRK = HMAC(salt, ikm), OKM = HMAC(PRK, info | 1) */
void hkdf_sha256(const char *salt, const uint8_t *ikm, size_t n, const char *info, uint8_t out[32]) {
  struct hmac_key k;
  uint8_t prk[32], msg[128];
  hmac_sha256_key(&k, (const uint8_t *)salt, strlen(salt));
  hmac_sha256(&k, ikm, n, prk);
  hmac_sha256_key(&k, prk, sizeof prk);
  size_t il = strnlen(info, sizeof msg - 1);
  memcpy(msg, info, il);
  msg[il] = 1;
  hmac_sha256(&k, msg, il + 1, out);
  memset(prk, 0, sizeof prk);
  memset(&k, 0, sizeof k);
}
