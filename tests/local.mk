# tests/local.mk: cmocka unit tests for proto/ and the daemon's pure parts, and the namespace lab (pytest).
if HAVE_CMOCKA
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
UNIT_LDADD = proto/libhgwproto.a $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test_addr tests/unit/test_wire tests/unit/test_fsm \
	tests/unit/test_cmdtree
tests_unit_test_addr_SOURCES = tests/unit/test_addr.c
tests_unit_test_addr_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_addr_LDADD = $(UNIT_LDADD)
tests_unit_test_wire_SOURCES = tests/unit/test_wire.c
tests_unit_test_wire_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_wire_LDADD = $(UNIT_LDADD)
tests_unit_test_fsm_SOURCES = tests/unit/test_fsm.c
tests_unit_test_fsm_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_fsm_LDADD = $(UNIT_LDADD)
tests_unit_test_cmdtree_SOURCES = tests/unit/test_cmdtree.c daemon/cmdtree.c
tests_unit_test_cmdtree_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_cmdtree_LDADD = $(UNIT_LDADD)

TESTS += tests/unit/test_addr tests/unit/test_wire tests/unit/test_fsm \
	tests/unit/test_cmdtree
endif
