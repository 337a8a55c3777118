/*
 * WebSocket (RFC 6455), the server's part: the handshake's accept key,
 * unfragmented text and ping frames out, and the client's masked frames in
 * (text messages, ping, close). Client messages are small: a frame over
 * WS_FRAME_MAX closes the connection.
 */
#include "events.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A client frame must fit the connection's input buffer. */
enum { WS_FRAME_MAX = REQUEST_MAX - 16 };

/* SHA-1 (FIPS 180-4), only for the handshake's accept key. */
static uint32_t rol(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

static void sha1_block(uint32_t h[5], const unsigned char *p)
{
	uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (int i = 0; i < 80; i++) {
		uint32_t f, k;
		if (i < 20)
			f = (b & c) | (~b & d), k = 0x5A827999;
		else if (i < 40)
			f = b ^ c ^ d, k = 0x6ED9EBA1;
		else if (i < 60)
			f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
		else
			f = b ^ c ^ d, k = 0xCA62C1D6;
		uint32_t t = rol(a, 5) + f + e + k + w[i];
		e = d, d = c, c = rol(b, 30), b = a, a = t;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

static void sha1(const unsigned char *msg, size_t len, unsigned char out[20])
{
	uint32_t h[5] = { 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0 };
	unsigned char block[64];
	size_t i = 0;
	for (; i + 64 <= len; i += 64)
		sha1_block(h, msg + i);
	size_t rest = len - i;
	memset(block, 0, 64);
	memcpy(block, msg + i, rest);
	block[rest] = 0x80;
	if (rest >= 56) {
		sha1_block(h, block);
		memset(block, 0, 64);
	}
	uint64_t bits = (uint64_t)len * 8;
	for (int j = 0; j < 8; j++)
		block[63 - j] = (unsigned char)(bits >> (8 * j));
	sha1_block(h, block);
	for (int j = 0; j < 20; j++)
		out[j] = (unsigned char)(h[j / 4] >> (24 - 8 * (j % 4)));
}

void ws_accept_key(const char *key, char out[29])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char buf[64 + sizeof guid], d[21] = { 0 };
	size_t klen = strlen(key);

	memcpy(buf, key, klen);
	memcpy(buf + klen, guid, sizeof guid - 1);
	sha1(buf, klen + sizeof guid - 1, d);
	for (int i = 0, o = 0; i < 21; i += 3, o += 4) {
		uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)(i + 1 < 21 ? d[i + 1] : 0) << 8 | (i + 2 < 21 ? d[i + 2] : 0);
		out[o] = b64[(v >> 18) & 63];
		out[o + 1] = b64[(v >> 12) & 63];
		out[o + 2] = b64[(v >> 6) & 63];
		out[o + 3] = b64[v & 63];
	}
	out[27] = '=';
	out[28] = '\0';
}

bool ws_queue_frame(struct conn *c, int opcode, const char *payload, size_t len, bool force)
{
	unsigned char head[10];
	size_t hlen = 2;

	head[0] = (unsigned char)(0x80 | opcode);
	if (len < 126) {
		head[1] = (unsigned char)len;
	} else if (len < 65536) {
		head[1] = 126;
		head[2] = (unsigned char)(len >> 8);
		head[3] = (unsigned char)len;
		hlen = 4;
	} else {
		head[1] = 127;
		for (int i = 0; i < 8; i++)
			head[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
		hlen = 10;
	}
	size_t pending = c->out_len - c->out_off;
	if (!force && pending && pending + hlen + len > OUT_MAX)
		return false;
	return conn_queue(c, (const char *)head, hlen, true) && conn_queue(c, payload, len, true);
}

/* The length of the first complete frame in buf (0: not yet), its payload unmasked in place. */
static size_t frame_take(unsigned char *buf, size_t len, int *opcode, unsigned char **payload,
			 size_t *plen, bool *bad)
{
	if (len < 2)
		return 0;
	size_t hlen = 2, n = buf[1] & 0x7f;
	if (!(buf[1] & 0x80) || !(buf[0] & 0x80)) {      /* unmasked or fragmented: refused */
		*bad = true;
		return 0;
	}
	if (n == 126) {
		if (len < 4)
			return 0;
		n = (size_t)buf[2] << 8 | buf[3];
		hlen = 4;
	} else if (n == 127) {
		*bad = true;
		return 0;
	}
	if (n > WS_FRAME_MAX) {
		*bad = true;
		return 0;
	}
	if (len < hlen + 4 + n)
		return 0;
	unsigned char *mask = buf + hlen;
	*payload = mask + 4;
	for (size_t i = 0; i < n; i++)
		(*payload)[i] ^= mask[i % 4];
	*opcode = buf[0] & 0x0f;
	*plen = n;
	return hlen + 4 + n;
}

int ws_receive(struct events *ev, struct conn *c)
{
	size_t used = 0;
	for (;;) {
		int opcode;
		unsigned char *payload;
		size_t plen;
		bool bad = false;
		size_t n = frame_take((unsigned char *)c->in + used, c->in_len - used, &opcode, &payload, &plen, &bad);
		if (bad)
			return -1;
		if (!n)
			break;
		used += n;
		if (opcode == 8)
			return -1;
		if (opcode == 9)
			ws_queue_frame(c, 10, (const char *)payload, plen, true);
		else if (opcode == 1)
			ws_client_message(ev, c, (const char *)payload, plen);
	}
	memmove(c->in, c->in + used, c->in_len - used);
	c->in_len -= used;
	return 0;
}
