/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small SHA-256 (FIPS 180-4) for the selftests, written for this project: the guest has no
 * crypto library and the tests are static binaries.
 */
#ifndef VIOMMU_SHA256_H
#define VIOMMU_SHA256_H

#include <stddef.h>
#include <linux/types.h>
#include <string.h>

#define SHA256_DIGEST_SIZE	32
#define SHA256_BLOCK_SIZE	64

struct sha256_ctx {
	__u32 h[8];
	__u64 total;			/* bytes hashed so far */
	__u8 block[SHA256_BLOCK_SIZE];
	size_t used;			/* bytes waiting in block[] */
};

static inline __u32 sha256_ror(__u32 x, unsigned int n)
{
	return (x >> n) | (x << (32 - n));
}

static inline void sha256_init(struct sha256_ctx *c)
{
	static const __u32 iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(c->h, iv, sizeof(iv));
	c->total = 0;
	c->used = 0;
}

static inline void sha256_compress(__u32 h[8], const __u8 *p)
{
	static const __u32 sha256_k[64] = {
		0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
		0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
		0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
		0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
		0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
		0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
		0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
		0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
		0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
		0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
		0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
	};
	__u32 w[64], a, b, cc, d, e, f, g, hh, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (__u32)p[4 * i] << 24 | (__u32)p[4 * i + 1] << 16 |
		       (__u32)p[4 * i + 2] << 8 | (__u32)p[4 * i + 3];
	for (i = 16; i < 64; i++) {
		__u32 s0 = sha256_ror(w[i - 15], 7) ^ sha256_ror(w[i - 15], 18) ^
			   (w[i - 15] >> 3);
		__u32 s1 = sha256_ror(w[i - 2], 17) ^ sha256_ror(w[i - 2], 19) ^
			   (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0]; b = h[1]; cc = h[2]; d = h[3];
	e = h[4]; f = h[5]; g = h[6]; hh = h[7];
	for (i = 0; i < 64; i++) {
		t1 = hh + (sha256_ror(e, 6) ^ sha256_ror(e, 11) ^ sha256_ror(e, 25)) +
		     ((e & f) ^ (~e & g)) + sha256_k[i] + w[i];
		t2 = (sha256_ror(a, 2) ^ sha256_ror(a, 13) ^ sha256_ror(a, 22)) +
		     ((a & b) ^ (a & cc) ^ (b & cc));
		hh = g; g = f; f = e; e = d + t1;
		d = cc; cc = b; b = a; a = t1 + t2;
	}
	h[0] += a; h[1] += b; h[2] += cc; h[3] += d;
	h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

static inline void sha256_update(struct sha256_ctx *c, const void *data, size_t len)
{
	const __u8 *p = data;

	c->total += len;
	if (c->used) {
		size_t take = SHA256_BLOCK_SIZE - c->used;

		if (take > len)
			take = len;
		memcpy(c->block + c->used, p, take);
		c->used += take;
		p += take;
		len -= take;
		if (c->used < SHA256_BLOCK_SIZE)
			return;
		sha256_compress(c->h, c->block);
		c->used = 0;
	}
	while (len >= SHA256_BLOCK_SIZE) {
		sha256_compress(c->h, p);
		p += SHA256_BLOCK_SIZE;
		len -= SHA256_BLOCK_SIZE;
	}
	memcpy(c->block, p, len);
	c->used = len;
}

static inline void sha256_final(struct sha256_ctx *c, __u8 out[SHA256_DIGEST_SIZE])
{
	__u64 bits = c->total * 8;
	int i;

	c->block[c->used++] = 0x80;
	if (c->used > SHA256_BLOCK_SIZE - 8) {
		memset(c->block + c->used, 0, SHA256_BLOCK_SIZE - c->used);
		sha256_compress(c->h, c->block);
		c->used = 0;
	}
	memset(c->block + c->used, 0, SHA256_BLOCK_SIZE - 8 - c->used);
	for (i = 0; i < 8; i++)
		c->block[SHA256_BLOCK_SIZE - 1 - i] = (__u8)(bits >> (8 * i));
	sha256_compress(c->h, c->block);
	for (i = 0; i < 8; i++) {
		out[4 * i] = (__u8)(c->h[i] >> 24);
		out[4 * i + 1] = (__u8)(c->h[i] >> 16);
		out[4 * i + 2] = (__u8)(c->h[i] >> 8);
		out[4 * i + 3] = (__u8)c->h[i];
	}
}

/* Lowercase hex of a digest into out (65 bytes). */
static inline void sha256_hex(const __u8 digest[SHA256_DIGEST_SIZE],
			      char out[2 * SHA256_DIGEST_SIZE + 1])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < SHA256_DIGEST_SIZE; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[2 * SHA256_DIGEST_SIZE] = '\0';
}

/* One-shot helper: hex digest of a buffer. */
static inline void sha256_hex_of(const void *data, size_t len, char out[2 * SHA256_DIGEST_SIZE + 1])
{
	__u8 digest[SHA256_DIGEST_SIZE];
	struct sha256_ctx c;

	sha256_init(&c);
	sha256_update(&c, data, len);
	sha256_final(&c, digest);
	sha256_hex(digest, out);
}

#endif /* VIOMMU_SHA256_H */
