# cli/local.mk: hgwsh, the control shell.
