/* SPDX-License-Identifier: BSD-2-Clause */
#include "tcpopt.h"
#include "bytes.h"
#include "packet.h"
#include "eno.h"

#include <string.h>

int tcpopt_scan(const uint8_t *opts, size_t len, struct tcpopt_info *info)
{
	size_t i = 0;

	memset(info, 0, sizeof(*info));
	info->mss = info->wscale = info->sack = info->mac = -1;
	while (i < len) {
		uint8_t kind = opts[i], olen;

		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return -1;
		olen = opts[i + 1];
		if (olen < 2 || i + olen > len)
			return -1;
		switch (kind) {
		case TCPOPT_MSS:
			if (olen == 4 && info->mss < 0)
				info->mss = (int)i;
			break;
		case TCPOPT_WSCALE:
			if (olen == 3 && info->wscale < 0)
				info->wscale = (int)i;
			break;
		case TCPOPT_SACK:
			if (olen >= 10 && (olen - 2) % 8 == 0 && info->sack < 0)
				info->sack = (int)i;
			break;
		case TCPOPT_TFO:
			info->tfo = true;
			break;
		case TCPOPT_MPTCP:
			info->mptcp = true;
			break;
		case TCPOPT_EXP_TFO:
			if (olen >= 4 && get_be16(opts + i + 2) == 0xf989)
				info->tfo = true;
			break;
		case ENO_KIND:
			info->eno_count++;
			break;
		case TCPOPT_EXP:
			if (olen >= 4 && get_be16(opts + i + 2) == MAC_EXID) {
				if (olen == MAC_OPT_LEN && info->mac < 0)
					info->mac = (int)i;
				else
					info->mac_malformed = true;
			}
			break;
		default:
			break;
		}
		i += olen;
		info->used = i;
	}
	return 0;
}

bool tcpopt_lower_mss(uint8_t *opts, const struct tcpopt_info *info, uint16_t delta)
{
	uint16_t mss;

	if (info->mss < 0)
		return false;
	mss = get_be16(opts + info->mss + 2);
	if (mss <= 64)
		return false;
	mss = mss - delta < 64 ? 64 : (uint16_t)(mss - delta);
	put_be16(opts + info->mss + 2, mss);
	return true;
}

void tcpopt_sack_shift(uint8_t *opts, const struct tcpopt_info *info, uint32_t delta)
{
	uint8_t *s;
	size_t n;

	if (info->sack < 0)
		return;
	s = opts + info->sack;
	for (n = 2; n + 4 <= s[1]; n += 4)
		put_be32(s + n, get_be32(s + n) + delta);
}

void tcpopt_sack_unshift(uint8_t *opts, const struct tcpopt_info *info, uint32_t delta,
			 uint32_t floor)
{
	uint8_t *s;
	size_t n;

	if (info->sack < 0)
		return;
	s = opts + info->sack;
	for (n = 2; n + 4 <= s[1]; n += 4) {
		uint32_t v = get_be32(s + n) - delta;
		if ((int32_t)(v - floor) < 0)
			v = floor;
		put_be32(s + n, v);
	}
}

int tcpopt_append(uint8_t out[40], const uint8_t *opts, size_t len,
		  const struct tcpopt_info *info, const uint8_t *extra, size_t extra_len,
		  unsigned *sack_blocks_dropped)
{
	size_t used = info->used <= len ? info->used : len;
	size_t total, sack_len = 0, cut = 0, pos;

	if (sack_blocks_dropped)
		*sack_blocks_dropped = 0;
	if (info->sack >= 0)
		sack_len = opts[info->sack + 1];
	/* Remove SACK blocks, oldest (last) first, then the option itself. */
	while (used - cut + extra_len > TCP_MAX_OPT_LEN && sack_len - cut >= 10) {
		cut += (sack_len - cut == 10) ? 10 : 8;
		if (sack_blocks_dropped)
			(*sack_blocks_dropped)++;
	}
	total = used - cut + extra_len;
	if (total > TCP_MAX_OPT_LEN)
		return -1;
	if (cut) {
		size_t s = (size_t)info->sack, keep = sack_len - cut;
		memcpy(out, opts, s);
		pos = s;
		if (keep) {
			memcpy(out + pos, opts + s, keep);
			out[pos + 1] = (uint8_t)keep;
			pos += keep;
		}
		memcpy(out + pos, opts + s + sack_len, used - s - sack_len);
		pos += used - s - sack_len;
	} else {
		memcpy(out, opts, used);
		pos = used;
	}
	/* Keep the extra option 4-byte aligned when the original options were
	 * aligned: pad before it, then after. */
	while (pos % 4 && pos + extra_len + 1 <= TCP_MAX_OPT_LEN && extra_len % 4 == 0)
		out[pos++] = TCPOPT_NOP;
	memcpy(out + pos, extra, extra_len);
	pos += extra_len;
	while (pos % 4)
		out[pos++] = TCPOPT_NOP;
	if (pos > TCP_MAX_OPT_LEN)
		return -1;
	return (int)pos;
}
