/* cmd_table.h: every command of the daemon, defined once (cmd_table.c): the
 * daemon registers it, and the fuzzer and the unit tests link the same data. */
#ifndef HGW_CMD_TABLE_H
#define HGW_CMD_TABLE_H

#include <stddef.h>

#include "cmdtree.h"

/* Compiled with -DHGW_CMD_TABLE_NO_HANDLERS, every fn is NULL: the table
 * then links with cmdtree.c alone (fuzz_cmd, test_cmd_table). */
extern const struct cmd_def cmd_table[];
extern const size_t cmd_table_len;

#endif
