# cli/local.mk: hgwsh, the control shell.
bin_PROGRAMS += cli/hgwsh
cli_hgwsh_SOURCES = cli/hgwsh.c
cli_hgwsh_CFLAGS = $(AM_CFLAGS) $(LIBEDIT_CFLAGS)
cli_hgwsh_LDADD = $(LIBEDIT_LIBS)
