/* SPDX-License-Identifier: BSD-2-Clause */
/* The flow table's slots in a memory-mapped file, so that a restarted
 * daemon (after a crash, kill -9 or an upgrade) finds the keys, offsets and
 * state of the connections it was translating and resumes them.
 *
 * The file must be on a memory file system (tmpfs: /run, /dev/shm): it
 * holds traffic keys, which must never reach persistent storage.  It is
 * created with mode 0600 and locked (flock) for as long as a daemon uses it.
 * Its mapping is locked in memory (mlock: no swap, if RLIMIT_MEMLOCK
 * allows) and excluded from core dumps (MADV_DONTDUMP).
 * Its header names the layout version, the slot size, the fingerprint of
 * the slots' layout, the number of slots and the boot it was written in; a
 * file that does not match is discarded, never half-used. */
#ifndef TC_FLOWSTORE_H
#define TC_FLOWSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

/* The file's format is struct flow's layout (see "The persisted layout" in
 * flow.h): FLOWSTORE_FLOW_LAYOUT is the FLOW_LAYOUT_FINGERPRINT that goes
 * with FLOWSTORE_VERSION, and the header carries both, so a daemon never
 * adopts slots laid out otherwise, even of the same size. */
#define FLOWSTORE_VERSION 3	/* 2: protocol version 2 flows (chains, suite);
				 * 3: resumed flows (resumed, eno_ack_pending) */
#if UINTPTR_MAX == UINT64_MAX
/* For LP64 (x86_64, aarch64, ...); the other ABIs lay struct flow out
 * otherwise and rely on the check in the header alone. */
#define FLOWSTORE_FLOW_LAYOUT 0x63b355e0f5a55557ull
_Static_assert(FLOW_LAYOUT_FINGERPRINT == FLOWSTORE_FLOW_LAYOUT,
	       "struct flow (or a struct in it) changed, and it is the state file's format: "
	       "raise FLOWSTORE_VERSION and set FLOWSTORE_FLOW_LAYOUT to the new "
	       "FLOW_LAYOUT_FINGERPRINT, as flow.h says");
#endif

struct flowstore_hdr {
	char magic[8];			/* "TCFLOWS\0" */
	uint32_t version;		/* FLOWSTORE_VERSION */
	uint32_t slot_size;		/* sizeof(struct flow) */
	uint64_t nslots;
	uint64_t slots_used;		/* high-water mark, see struct flow_table */
	char boot_id[40];		/* /proc/sys/kernel/random/boot_id */
	uint64_t writer_pid;		/* the daemon that last opened it */
	uint64_t flow_layout;		/* FLOW_LAYOUT_FINGERPRINT */
};

struct flowstore {
	int fd;
	void *map;
	size_t map_len;
	struct flowstore_hdr *hdr;
	struct flow *slots;
	int mlock_errno;	/* 0: the mapping is locked in memory (no swap) */
	int dontdump_errno;	/* 0: the mapping is left out of core dumps */
	bool adoptable;		/* the file held slots of a compatible daemon */
	char why[160];		/* why not, when it existed */
};

/* Opens or creates path for nslots slots.  Returns 0 on success; 1 if the
 * file system is not memory-backed (nothing is created; the caller runs
 * without a store); -1 on error.  err gets a message for 1 and -1. */
int flowstore_open(struct flowstore *s, const char *path, size_t nslots, char *err,
		   size_t errlen);
/* Unmaps and closes the file, leaving its contents for the next daemon. */
void flowstore_close(struct flowstore *s);

#endif
