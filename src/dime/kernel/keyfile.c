/* Reader of the server key file: "parallax-server-key 1", "server <64 hex>", "network <64 hex>"
 * lines, from fw_cfg (never the command line, which is visible and echoed). */
#include "keyfile.h"
#include "fwcfg.h"

#define KDF_SALT "parallax/2"
#define KEY_FILE_MAGIC "parallax-server-key 1"

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* "name <64 hex digits>" -> 32 bytes */
static bool parse_secret_line(const char *line, const char *name, uint8_t out[32]) {
  size_t n = strlen(name);
  if (strncmp(line, name, n) != 0 || line[n] != ' ') return false;
  const char *h = line + n + 1;
  for (int i = 0; i < 32; i++) {
    int a = hexval(h[2 * i]), b = hexval(h[2 * i + 1]);
    if (a < 0 || b < 0) return false;
    out[i] = (uint8_t)(a << 4 | b);
  }
  return h[64] == 0 || h[64] == '\n' || h[64] == '\r';
}

enum keyfile_result keyfile_read(uint8_t server[32], uint8_t network[32]) {
  static uint8_t text[512];
  int n = fwcfg_read_file(KEYFILE_FWCFG_NAME, text, sizeof text - 1);
  if (n <= 0) return KEYFILE_ABSENT;
  text[n] = 0;
  bool magic = false, srv = false, net = false;
  for (char *line = (char *)text; line && *line;) {
    char *nl = line;
    while (*nl && *nl != '\n') nl++;
    char *next = *nl ? nl + 1 : NULL;
    *nl = 0;
    if (strcmp(line, KEY_FILE_MAGIC) == 0) magic = true;
    else if (parse_secret_line(line, "server", server)) srv = true;
    else if (parse_secret_line(line, "network", network)) net = true;
    line = next;
  }
  memset(text, 0, sizeof text);
  return magic && srv && net ? KEYFILE_OK : KEYFILE_INVALID;
}

void keyfile_tag_key(const uint8_t secret[32], struct hmac_key *k) {
  uint8_t t[32];
  hkdf_sha256(KDF_SALT, secret, 32, "tag", t);
  hmac_sha256_key(k, t, sizeof t);
  memset(t, 0, sizeof t);
}
