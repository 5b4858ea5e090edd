# daemon/local.mk: hgwd, the routing daemon.
sbin_PROGRAMS += daemon/hgwd
daemon_hgwd_SOURCES = \
	daemon/main.c daemon/hgwd.h \
	daemon/log.c daemon/log.h \
	daemon/util.c daemon/util.h \
	daemon/config.c daemon/config.h \
	daemon/rib.c daemon/rib.h \
	daemon/fib.c \
	daemon/kernel.h daemon/kernel_nl.c \
	daemon/peer.c daemon/peer.h \
	daemon/policy.c daemon/policy.h \
	daemon/tls.c daemon/tls.h \
	daemon/members.c daemon/members.h \
	daemon/lease.c daemon/lease.h \
	daemon/subnetenv.c daemon/subnetenv.h \
	daemon/nft.c daemon/nft.h \
	daemon/hostnet.c daemon/hostnet.h \
	daemon/ctl.c daemon/ctl.h \
	daemon/cmdtree.c daemon/cmdtree.h \
	daemon/cmd.c daemon/cmd.h daemon/cmd_show.c
daemon_hgwd_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(LIBNL_CFLAGS) $(JSONC_CFLAGS) $(OPENSSL_CFLAGS) $(NFT_CFLAGS)
daemon_hgwd_LDADD = proto/libhgwproto.a $(LIBEVENT_LIBS) $(LIBNL_LIBS) $(JSONC_LIBS) $(OPENSSL_LIBS) $(NFT_LIBS)
