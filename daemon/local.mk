# daemon/local.mk: hgwd, the routing daemon.
