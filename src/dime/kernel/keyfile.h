/* The server key file (docs/PROTOCOL.md, "Keys"), as the host hands it through fw_cfg: read by
 * the DIME kernel and by the network boot firmware (src/dime/firmware), one reader for both. */
#ifndef DIME_KEYFILE_H
#define DIME_KEYFILE_H
#include "kernel.h"
#include "crypto.h"

#define KEYFILE_FWCFG_NAME "opt/parallax/key"
enum keyfile_result { KEYFILE_ABSENT = 0, KEYFILE_OK = 1, KEYFILE_INVALID = -1 };
/* the server and network secrets of fw_cfg opt/parallax/key; the text is wiped after parsing */
enum keyfile_result keyfile_read(uint8_t server[32], uint8_t network[32]);
/* the HMAC key that tags frames, derived from a secret: HKDF(secret, info "tag") */
void keyfile_tag_key(const uint8_t secret[32], struct hmac_key *k);
#endif
