/* rtprotos.c: iproute2's route protocol names (kernel protocol hgw): the
 * rt_protos files, then the built-in hgw = 77. */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One rt_protos file: "NUMBER NAME" lines, '#' comments. */
static int
proto_in_file(const char *path, const char *name)
{
	FILE *f = fopen(path, "r");
	char line[256], nm[64];
	unsigned v;
	int found = -1;

	if (f == NULL)
		return -1;
	while (found < 0 && fgets(line, sizeof(line), f) != NULL) {
		char *p = line;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#')
			continue;
		if (sscanf(p, "%u %63s", &v, nm) == 2 && v <= 255 && strcmp(nm, name) == 0)
			found = (int)v;
	}
	fclose(f);
	return found;
}

static int
conf_suffix(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return e->d_name[0] != '.' && n > 5 && strcmp(e->d_name + n - 5, ".conf") == 0;
}

int
config_proto_lookup(const char *name)
{
	struct dirent **list;
	char path[CFG_PATH_MAX];
	int n, i, v = -1;

	if ((v = proto_in_file(CFG_RT_PROTOS, name)) < 0 &&
	    (n = scandir(CFG_RT_PROTOS_DIR, &list, conf_suffix, alphasort)) >= 0) {
		for (i = 0; i < n; i++) {
			if (v < 0 && snprintf(path, sizeof(path), "%s/%s", CFG_RT_PROTOS_DIR,
			    list[i]->d_name) < (int)sizeof(path))
				v = proto_in_file(path, name);
			free(list[i]);
		}
		free(list);
	}
	if (v < 0)
		v = proto_in_file(CFG_RT_PROTOS_USR, name);
	if (v < 0 && strcmp(name, "hgw") == 0)
		v = CFG_DEFAULT_PROTO;
	return v;
}

