/* fuzz_config.c: libFuzzer target for the configuration parser (daemon/config.c).
 *
 * The input is configuration text. It is split at newlines and each line goes
 * through config_statement() with a context, as config_load() and the shell's
 * configure mode do; a statement that fails does not stop the rest (the shell
 * carries on too, and it reaches more states). Then:
 *   - config_check(), and config_write() of the result;
 *   - the written text must parse back statement by statement without an
 *     error, give the same config_check() verdict, and write back the very
 *     same text (the writer and the parser agree); when it passes
 *     config_check(), config_load() must read it back the same way too;
 *   - config_copy() writes the same text too;
 *   - every written network and neighbor is found by config_has_network() /
 *     config_find_neighbor(), and "no network P" / "no neighbor A" with the
 *     written spelling removes each one.
 * Any broken promise abort()s, with the texts on stderr.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
die(const char *what, const char *t1, const char *t2)
{
	fprintf(stderr, "fuzz_config: %s\n", what);
	if (t1 != NULL)
		fprintf(stderr, "--- first text:\n%s--- end\n", t1);
	if (t2 != NULL)
		fprintf(stderr, "--- second text:\n%s--- end\n", t2);
	abort();
}

static char *
write_text(const struct config *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		abort();
	config_write(c, f);
	if (fclose(f) != 0 || text == NULL)
		abort();
	if (strlen(text) != len)
		die("config_write wrote a NUL byte", text, NULL);
	return text;
}

/* Feeds text (NUL-terminated, modified in place) line by line; the number of
 * statements that failed. */
static int
feed(struct config *c, char *text, int verbose)
{
	enum cfg_ctx ctx = CFG_CTX_TOP;
	char err[256], *line = text, *nl;
	int lineno = 0, failed = 0;

	for (;;) {
		lineno++;
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		err[0] = '\0';
		if (config_statement(c, &ctx, line, lineno, err, sizeof(err)) < 0) {
			if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0')
				die("config_statement failed without a message", NULL, NULL);
			failed++;
			if (verbose)
				fprintf(stderr, "fuzz_config: line %d '%s': %s\n",
				    lineno, line, err);
		}
		if (ctx != CFG_CTX_TOP && ctx != CFG_CTX_ROUTER)
			die("bad context", NULL, NULL);
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	return failed;
}

static int
check(const struct config *c)
{
	char err[256];
	int r;

	err[0] = '\0';
	r = config_check(c, err, sizeof(err));
	if (r != 0 && (r != -1 || err[0] == '\0'))
		die("config_check: bad return or no message", NULL, NULL);
	return r;
}

/* config_load() of text, through a memory file: 0 or -1 with err. */
static int
load_text(struct config *c, const char *text, char *err, size_t errlen)
{
	char path[64];
	size_t len = strlen(text);
	int fd = memfd_create("fuzz_config", 0), r;

	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = config_load(path, c, err, errlen);
	close(fd);
	return r;
}

/* Removes every network and neighbor with the spelling config_write uses. */
static void
negate_all(struct config *c, const char *text)
{
	enum cfg_ctx ctx = CFG_CTX_ROUTER;
	char line[HGW_ADDRSTRLEN + 32], buf[HGW_ADDRSTRLEN], err[256];

	while (c->nnetworks > 0) {
		struct hgw_prefix p = c->networks[c->nnetworks - 1];

		if (!config_has_network(c, &p))
			die("config_has_network misses a network", text, NULL);
		snprintf(line, sizeof(line), "no network %s",
		    hgw_prefix_fmt(&p, buf, sizeof(buf)));
		if (config_statement(c, &ctx, line, 1, err, sizeof(err)) < 0) {
			fprintf(stderr, "fuzz_config: '%s': %s\n", line, err);
			die("cannot remove a network", text, NULL);
		}
		if (config_has_network(c, &p))
			die("a removed network is still there", text, NULL);
	}
	while (c->nneighbors > 0) {
		struct hgw_addr a = c->neighbors[0].addr;

		if (config_find_neighbor(c, &a) != &c->neighbors[0])
			die("config_find_neighbor misses a neighbor", text, NULL);
		snprintf(line, sizeof(line), "no neighbor %s",
		    hgw_addr_fmt(&a, buf, sizeof(buf)));
		if (config_statement(c, &ctx, line, 1, err, sizeof(err)) < 0) {
			fprintf(stderr, "fuzz_config: '%s': %s\n", line, err);
			die("cannot remove a neighbor", text, NULL);
		}
		if (config_find_neighbor(c, &a) != NULL)
			die("a removed neighbor is still there", text, NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c1, c2, c3;
	char *in, *t1, *t2, *t1copy, *t3;
	int ok1, ok2;

	/* One pass through config_statement per line: keep the lines a
	 * config file could hold, and the inputs small enough to be quick. */
	if (size > 64 * 1024)
		return 0;
	if ((in = malloc(size + 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';

	config_init(&c1);
	feed(&c1, in, 0);
	ok1 = check(&c1);
	t1 = write_text(&c1);

	/* What was written parses back, whole and without a complaint. */
	config_init(&c2);
	if ((t1copy = strdup(t1)) == NULL)
		abort();
	if (feed(&c2, t1copy, 1) != 0)
		die("the written configuration does not parse back", t1, NULL);
	free(t1copy);
	ok2 = check(&c2);
	if (ok1 != ok2)
		die("config_check differs after a round trip", t1, NULL);
	t2 = write_text(&c2);
	if (strcmp(t1, t2) != 0)
		die("written, parsed and written again, the text differs", t1, t2);

	/* The daemon reads it back with config_load(), as on start or reload. */
	if (ok1 == 0) {
		char err[256];

		if (load_text(&c3, t1, err, sizeof(err)) != 0) {
			fprintf(stderr, "fuzz_config: config_load: %s\n", err);
			die("config_load refuses the written configuration", t1, NULL);
		}
		t3 = write_text(&c3);
		if (strcmp(t1, t3) != 0)
			die("config_load reads the written text differently", t1, t3);
		free(t3);
		config_free(&c3);
	}

	if (config_copy(&c3, &c2) != 0)
		abort();
	t3 = write_text(&c3);
	if (strcmp(t1, t3) != 0)
		die("config_copy writes differently", t1, t3);
	free(t3);
	config_free(&c3);

	negate_all(&c2, t1);

	free(t2);
	free(t1);
	config_free(&c2);
	config_free(&c1);
	free(in);
	return 0;
}
