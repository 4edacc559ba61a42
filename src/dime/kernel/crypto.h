/* SHA-256, HMAC-SHA256, CRC-32. */
#ifndef DIME_CRYPTO_H
#define DIME_CRYPTO_H
#include "kernel.h"
struct sha256 { uint32_t h[8]; uint64_t len; uint8_t buf[64]; size_t fill; };
struct hmac_key { struct sha256 inner, outer; };   /* key already absorbed into both pads */
void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
void sha256_final(struct sha256 *s, uint8_t out[32]);
void hmac_sha256_key(struct hmac_key *k, const uint8_t *key, size_t n);
void hmac_sha256(const struct hmac_key *k, const void *data, size_t n, uint8_t out[32]);
bool tag_equal(const uint8_t *a, const uint8_t *b, size_t n);
uint32_t crc32_update(uint32_t crc, const void *data, size_t n);
void hkdf_sha256(const char *salt, const uint8_t *ikm, size_t n, const char *info, uint8_t out[32]);
#endif
