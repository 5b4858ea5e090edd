# proto/local.mk: the pure protocol library (no sockets, no libevent, no globals).
noinst_LIBRARIES += proto/libhgwproto.a
proto_libhgwproto_a_SOURCES = \
	proto/addr.c proto/addr.h \
	proto/wire.c proto/wire.h \
	proto/fsm.c proto/fsm.h
EXTRA_DIST += proto/PROTOCOL.md
