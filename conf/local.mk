# conf/local.mk: example configuration and man pages.
