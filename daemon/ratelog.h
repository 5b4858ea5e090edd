/* ratelog.h: a budget for log lines a remote party can cause: per source
 * address and in total, a fixed number of lines per window; what is left
 * out is counted (log.c's suppressed counter, shown in show summary). */
#ifndef HGW_RATELOG_H
#define HGW_RATELOG_H

#include "addr.h"

#define RATELOG_PER_SOURCE	5	/* lines per source per window */
#define RATELOG_TOTAL		20	/* lines in total per window */
#define RATELOG_WINDOW_MS	10000

/* May a line caused by src (NULL: no known source) be logged now?
 * 1: yes; 0: no, and it has been counted as suppressed. */
int ratelog_allow(const struct hgw_addr *src);

#endif
