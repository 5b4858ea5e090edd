# daemon/local.mk: hgwd, the routing daemon.
sbin_PROGRAMS += daemon/hgwd
daemon_hgwd_SOURCES = \
	daemon/main.c daemon/hgwd.h \
	daemon/log.c daemon/log.h \
	daemon/util.c daemon/util.h \
	daemon/config.c daemon/config_write.c daemon/rtprotos.c daemon/config_limits.c daemon/config.h \
	daemon/rib.c daemon/rib.h \
	daemon/sync.c daemon/sync.h \
	daemon/fib.c daemon/fib.h \
	daemon/kernel.h daemon/kernel_nl.c \
	daemon/vxlan.c daemon/vxlan.h daemon/encap.c daemon/encap.h \
	daemon/lan.c daemon/lan.h \
	daemon/session.c daemon/session.h \
	daemon/peer.c daemon/peer_out.c daemon/peer.h \
	daemon/gr.c daemon/gr.h daemon/leave.c daemon/leave.h \
	daemon/liveness.c daemon/liveness.h \
	daemon/listen.c daemon/listen.h \
	daemon/origin.c daemon/origin.h \
	daemon/identity.c daemon/identity.h \
	daemon/reconf.c daemon/reconf.h \
	daemon/policy.c daemon/policy.h \
	daemon/tls.c daemon/tls.h \
	daemon/members.c daemon/members.h \
	daemon/lease.c daemon/lease.h \
	daemon/ratelog.c daemon/ratelog.h \
	daemon/nodeid.c daemon/nodeid.h \
	daemon/leasetab.c daemon/leasetab.h daemon/leasefile.c daemon/leasefile.h \
	daemon/leasegate.c daemon/leasegate.h daemon/leaseroute.c daemon/leaseroute.h \
	daemon/budget.c daemon/budget.h \
	daemon/peeridx.c daemon/peeridx.h \
	daemon/subnetenv.c daemon/subnetenv.h \
	daemon/nft.c daemon/nft.h \
	daemon/hostnet.c daemon/hostnet.h \
	daemon/ctl.c daemon/ctl.h \
	daemon/cmdtree.c daemon/cmdtree.h \
	daemon/cmd.c daemon/cmd.h daemon/cmd_show.c daemon/cmd_show_mesh.c daemon/cmd_handlers.h \
	daemon/cmd_table.c daemon/cmd_table.h \
	daemon/cmd_log.c \
	daemon/stats.c daemon/stats.h \
	daemon/notify.c daemon/notify.h \
	daemon/http.c daemon/http.h
daemon_hgwd_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(LIBNL_CFLAGS) $(JSONC_CFLAGS) $(OPENSSL_CFLAGS) \
	$(SYSTEMD_CFLAGS) $(NFT_CFLAGS)
daemon_hgwd_LDADD = proto/libhgwproto.a $(LIBEVENT_LIBS) $(LIBNL_LIBS) $(JSONC_LIBS) $(OPENSSL_LIBS) \
	$(SYSTEMD_LIBS) $(NFT_LIBS)
EXTRA_DIST += daemon/README
