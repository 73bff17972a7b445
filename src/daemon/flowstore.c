/* SPDX-License-Identifier: BSD-2-Clause */
#include "flowstore.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define HDR_LEN 4096	/* the slots start on a page of their own */

static const char magic[8] = "TCFLOWS";

/* tests/netns/t18-daemon-killed.sh changes the fingerprint there. */
_Static_assert(offsetof(struct flowstore_hdr, flow_layout) == 80,
	       "the layout fingerprint moved in the header: update t18 as well");

static void read_boot_id(char out[40])
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	memset(out, 0, 40);
	if (!f)
		return;
	if (!fgets(out, 40, f))
		out[0] = 0;
	fclose(f);
	out[strcspn(out, "\n")] = 0;
}

/* Creates the directory (like the control socket's, usually the same one)
 * if it is missing, and tells whether it is in memory. */
static bool memory_backed(const char *path)
{
	char copy[4096];
	struct statfs sf;
	const char *dir;

	snprintf(copy, sizeof(copy), "%s", path);
	dir = dirname(copy);
	if (statfs(dir, &sf) < 0 && (errno != ENOENT || mkdir(dir, 0750) < 0 ||
				     statfs(dir, &sf) < 0))
		return false;
	return sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC;
}

/* Whether the header describes slots this daemon can take over; if not,
 * says why in s->why. */
static bool compatible(struct flowstore *s, const struct flowstore_hdr *h, size_t nslots,
		       const char *boot_id)
{
	if (memcmp(h->magic, magic, sizeof(magic)) != 0)
		snprintf(s->why, sizeof(s->why), "not a flow state file");
	else if (h->version != FLOWSTORE_VERSION || h->slot_size != sizeof(struct flow))
		snprintf(s->why, sizeof(s->why), "written by an incompatible version "
			 "(layout %u, slot %u bytes; this one: %u, %zu)", h->version,
			 h->slot_size, FLOWSTORE_VERSION, sizeof(struct flow));
	else if (h->flow_layout == 0)
		snprintf(s->why, sizeof(s->why), "written without a flow layout fingerprint "
			 "(by an older version)");
	else if (h->flow_layout != FLOW_LAYOUT_FINGERPRINT)
		snprintf(s->why, sizeof(s->why), "written for another flow layout (fingerprint "
			 "%#llx; this one: %#llx)", (unsigned long long)h->flow_layout,
			 (unsigned long long)FLOW_LAYOUT_FINGERPRINT);
	else if (h->nslots != nslots)
		snprintf(s->why, sizeof(s->why), "made for --max-flows %llu, now %zu",
			 (unsigned long long)h->nslots, nslots);
	else if (strncmp(h->boot_id, boot_id, sizeof(h->boot_id)) != 0)
		snprintf(s->why, sizeof(s->why), "left from an earlier boot");
	else
		return true;
	return false;
}

int flowstore_open(struct flowstore *s, const char *path, size_t nslots, char *err,
		   size_t errlen)
{
	size_t len = HDR_LEN + nslots * sizeof(struct flow);
	struct flowstore_hdr old;
	char boot_id[40];
	struct stat st;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (!memory_backed(path)) {
		snprintf(err, errlen, "%s is not on a memory file system (tmpfs); flow "
			 "state holds keys and is never written to disk", path);
		return 1;
	}
	s->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (s->fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* Two daemons must never share the slots. */
	if (flock(s->fd, LOCK_EX | LOCK_NB) < 0) {
		snprintf(err, errlen, "%s: %s", path, errno == EWOULDBLOCK ?
			 "in use by another tcpcryptd" : strerror(errno));
		goto fail;
	}
	if (fstat(s->fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: not a regular file of ours", path);
		goto fail;
	}
	if ((st.st_mode & 07777) != 0600 && fchmod(s->fd, 0600) < 0) {
		snprintf(err, errlen, "%s: chmod: %s", path, strerror(errno));
		goto fail;
	}
	read_boot_id(boot_id);
	if (st.st_size == 0) {
		s->why[0] = 0;
	} else if (pread(s->fd, &old, sizeof(old), 0) != (ssize_t)sizeof(old)) {
		snprintf(s->why, sizeof(s->why), "too short (%lld bytes)", (long long)st.st_size);
	} else if (compatible(s, &old, nslots, boot_id)) {
		s->adoptable = (size_t)st.st_size == len && old.slots_used <= nslots;
		if (!s->adoptable)
			snprintf(s->why, sizeof(s->why), "size %lld does not match %zu slots",
				 (long long)st.st_size, nslots);
	}
	/* Anything we cannot use is dropped whole: truncating to 0 frees the
	 * old pages, keys included. */
	if ((!s->adoptable && ftruncate(s->fd, 0) < 0) || ftruncate(s->fd, (off_t)len) < 0) {
		snprintf(err, errlen, "%s: truncate: %s", path, strerror(errno));
		goto fail;
	}
	s->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		snprintf(err, errlen, "%s: mmap %zu bytes: %s", path, len, strerror(errno));
		goto fail;
	}
	s->map_len = len;
	/* Keys stay out of core dumps, and out of swap: tmpfs pages can be
	 * swapped out like any others unless they are locked.  MLOCK_ONFAULT
	 * locks each page when it is first used, so an empty table costs no
	 * memory (the whole length still counts against RLIMIT_MEMLOCK).
	 * Locking can fail (RLIMIT_MEMLOCK without CAP_IPC_LOCK); the caller
	 * says so and goes on. */
	s->dontdump_errno = madvise(s->map, len, MADV_DONTDUMP) < 0 ? errno : 0;
	s->mlock_errno = mlock2(s->map, len, MLOCK_ONFAULT) < 0 ? errno : 0;
	if (s->mlock_errno == ENOSYS || s->mlock_errno == EINVAL)
		s->mlock_errno = mlock(s->map, len) < 0 ? errno : 0;
	s->hdr = s->map;
	s->slots = (struct flow *)((uint8_t *)s->map + HDR_LEN);
	if (!s->adoptable) {
		memcpy(s->hdr->magic, magic, sizeof(magic));
		s->hdr->version = FLOWSTORE_VERSION;
		s->hdr->slot_size = sizeof(struct flow);
		s->hdr->flow_layout = FLOW_LAYOUT_FINGERPRINT;
		s->hdr->nslots = nslots;
		s->hdr->slots_used = 0;
		memcpy(s->hdr->boot_id, boot_id, sizeof(s->hdr->boot_id));
	}
	s->hdr->writer_pid = (uint64_t)getpid();
	return 0;
fail:
	close(s->fd);
	s->fd = -1;
	return -1;
}

void flowstore_close(struct flowstore *s)
{
	if (s->map) {
		if (!s->mlock_errno)
			munlock(s->map, s->map_len);
		munmap(s->map, s->map_len);
	}
	if (s->fd >= 0)
		close(s->fd);
	s->map = NULL;
	s->fd = -1;
}
