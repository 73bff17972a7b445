/* SPDX-License-Identifier: BSD-2-Clause */
/* The known-answer files of tests/vectors/: runs of "name = value" lines
 * separated by blank lines, '#' comments.  Shared by the vector tests. */
#ifndef TC_VFILE_H
#define TC_VFILE_H

#include "unit.h"

#include <errno.h>

#ifndef VECTORS_DIR
#error "VECTORS_DIR must name the directory of the vector files"
#endif

#define MAX_FIELDS 32
#define MAX_BYTES  4096

/* One case: the "name = value" lines between blank lines. */
struct vfield {
	char *name;
	char *value;
};

struct vcase {
	size_t nfields;
	size_t line;	/* where it starts, for messages */
	struct vfield f[MAX_FIELDS];
};

struct vfile {
	char path[512];
	size_t ncases;
	struct vcase *cases;
};

static inline char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' ||
			   end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static inline struct vcase *new_case(struct vfile *vf, size_t line)
{
	struct vcase *c;

	vf->cases = realloc(vf->cases, (vf->ncases + 1) * sizeof(*vf->cases));
	ck_assert_ptr_nonnull(vf->cases);
	c = &vf->cases[vf->ncases++];
	memset(c, 0, sizeof(*c));
	c->line = line;
	return c;
}

static inline void add_field(struct vfile *vf, struct vcase *c, char *text, size_t line)
{
	char *eq = strchr(text, '=');
	struct vfield *f;

	ck_assert_msg(eq != NULL, "%s:%zu: expected \"name = value\"", vf->path, line);
	ck_assert_msg(c->nfields < MAX_FIELDS, "%s:%zu: too many fields", vf->path, line);
	*eq = '\0';
	f = &c->f[c->nfields++];
	f->name = strdup(trim(text));
	f->value = strdup(trim(eq + 1));
	ck_assert(f->name != NULL && f->value != NULL);
}

/* Reads VECTORS_DIR/name; a missing or empty file fails the test. */
static inline void vfile_load(struct vfile *vf, const char *name)
{
	char *buf = NULL;
	size_t cap = 0, line = 0;
	struct vcase *cur = NULL;
	FILE *fp;

	memset(vf, 0, sizeof(*vf));
	snprintf(vf->path, sizeof(vf->path), "%s/%s", VECTORS_DIR, name);
	fp = fopen(vf->path, "r");
	if (fp == NULL)
		ck_abort_msg("cannot open vector file %s: %s (run "
			     "the generator named in tests/vectors/)", vf->path, strerror(errno));
	while (getline(&buf, &cap, fp) >= 0) {
		char *s = trim(buf);

		line++;
		if (*s == '#')
			continue;
		if (*s == '\0') {
			cur = NULL;
			continue;
		}
		if (cur == NULL)
			cur = new_case(vf, line);
		add_field(vf, cur, s, line);
	}
	free(buf);
	fclose(fp);
	ck_assert_msg(vf->ncases > 0, "vector file %s has no cases", vf->path);
}

static inline void vfile_free(struct vfile *vf)
{
	for (size_t i = 0; i < vf->ncases; i++) {
		for (size_t j = 0; j < vf->cases[i].nfields; j++) {
			free(vf->cases[i].f[j].name);
			free(vf->cases[i].f[j].value);
		}
	}
	free(vf->cases);
	vf->cases = NULL;
}

static inline const char *vget(const struct vfile *vf, const struct vcase *c, const char *name)
{
	for (size_t i = 0; i < c->nfields; i++)
		if (strcmp(c->f[i].name, name) == 0)
			return c->f[i].value;
	ck_abort_msg("%s: case at line %zu has no field '%s'", vf->path, c->line, name);
	return NULL;
}

static inline size_t vhex(const struct vfile *vf, const struct vcase *c, const char *name,
		   uint8_t *out, size_t max)
{
	return unit_unhex(vget(vf, c, name), out, max);
}

/* For fixed-size fields: the length must be exact. */
static inline void vhex_n(const struct vfile *vf, const struct vcase *c, const char *name,
		   uint8_t *out, size_t n)
{
	size_t got = vhex(vf, c, name, out, n);

	ck_assert_msg(got == n, "%s:%zu: %s has %zu bytes, want %zu", vf->path, c->line,
		      name, got, n);
}

static inline uint64_t vint(const struct vfile *vf, const struct vcase *c, const char *name)
{
	const char *s = vget(vf, c, name);
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	ck_assert_msg(errno == 0 && end != s && *end == '\0' && *s != '-',
		      "%s:%zu: %s = '%s' is not an unsigned integer", vf->path, c->line,
		      name, s);
	return v;
}

#define CHECK_EQ(vf, c, what, got, want, n)                                     \
	ck_assert_msg(memcmp((got), (want), (n)) == 0, "%s: case at line %zu: %s differs", \
		      (vf)->path, (c)->line, (what))

#endif
