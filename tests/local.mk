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
# The daemon's command table without its handlers: no daemon code is linked.
check_PROGRAMS += tests/unit/test_cmd_table
tests_unit_test_cmd_table_SOURCES = tests/unit/test_cmd_table.c daemon/cmd_table.c \
	daemon/cmd_table.h daemon/cmdtree.c
tests_unit_test_cmd_table_CPPFLAGS = $(AM_CPPFLAGS) -DHGW_CMD_TABLE_NO_HANDLERS
tests_unit_test_cmd_table_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_cmd_table_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/test_rib tests/unit/test_config
tests_unit_test_rib_SOURCES = tests/unit/test_rib.c daemon/rib.c daemon/util.c daemon/log.c
tests_unit_test_rib_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_rib_LDADD = $(UNIT_LDADD)
tests_unit_test_config_SOURCES = tests/unit/test_config.c daemon/config.c daemon/config_write.c daemon/rtprotos.c daemon/config_limits.c daemon/util.c
tests_unit_test_config_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_config_LDADD = $(UNIT_LDADD)

TESTS += tests/unit/test_addr tests/unit/test_wire tests/unit/test_fsm \
	tests/unit/test_cmdtree tests/unit/test_cmd_table tests/unit/test_rib tests/unit/test_config

# hostint: nft.c's ruleset text and listing parser.
check_PROGRAMS += tests/unit/test_nft
tests_unit_test_nft_SOURCES = tests/unit/test_nft.c daemon/nft.c daemon/log.c daemon/util.c
tests_unit_test_nft_CFLAGS = $(UNIT_CFLAGS) $(NFT_CFLAGS)
tests_unit_test_nft_LDADD = $(UNIT_LDADD) $(NFT_LIBS)
TESTS += tests/unit/test_nft

# Issue 9: the daemon's glue without a kernel or sockets: the sync barrier on a
# real libevent base, origin with fake peers, leases with fake peers, origin
# and sync, fib against an in-memory kernel (fake_kernel.c).
UNIT_EVENT_CFLAGS = $(UNIT_CFLAGS) $(LIBEVENT_CFLAGS)
UNIT_EVENT_LDADD = $(UNIT_LDADD) $(LIBEVENT_LIBS)
check_PROGRAMS += tests/unit/test_sync
tests_unit_test_sync_SOURCES = tests/unit/test_sync.c daemon/sync.c daemon/util.c daemon/log.c
tests_unit_test_sync_CFLAGS = $(UNIT_EVENT_CFLAGS)
tests_unit_test_sync_LDADD = $(UNIT_EVENT_LDADD)
TESTS += tests/unit/test_sync
check_PROGRAMS += tests/unit/test_origin
tests_unit_test_origin_SOURCES = tests/unit/test_origin.c tests/unit/fakes.c tests/unit/fakes.h \
	daemon/origin.c daemon/rib.c daemon/config.c daemon/rtprotos.c daemon/config_limits.c daemon/util.c daemon/log.c
tests_unit_test_origin_CFLAGS = $(UNIT_EVENT_CFLAGS)
tests_unit_test_origin_LDADD = $(UNIT_EVENT_LDADD)
TESTS += tests/unit/test_origin
check_PROGRAMS += tests/unit/test_lease
tests_unit_test_lease_SOURCES = tests/unit/test_lease.c tests/unit/fakes.c tests/unit/fakes.h \
	daemon/lease.c daemon/leasefile.c daemon/leasetab.c daemon/ratelog.c daemon/rib.c daemon/config.c daemon/rtprotos.c daemon/config_limits.c daemon/util.c daemon/log.c
tests_unit_test_lease_CFLAGS = $(UNIT_EVENT_CFLAGS) $(JSONC_CFLAGS)
tests_unit_test_lease_LDADD = $(UNIT_EVENT_LDADD)
TESTS += tests/unit/test_lease
check_PROGRAMS += tests/unit/test_fib
tests_unit_test_fib_SOURCES = tests/unit/test_fib.c tests/unit/fake_kernel.c tests/unit/fake_kernel.h \
	daemon/fib.c daemon/rib.c daemon/sync.c daemon/config.c daemon/rtprotos.c daemon/config_limits.c daemon/util.c daemon/log.c
tests_unit_test_fib_CFLAGS = $(UNIT_EVENT_CFLAGS)
tests_unit_test_fib_LDADD = $(UNIT_EVENT_LDADD)
TESTS += tests/unit/test_fib
endif

# Golden configs: hgwd -n on tests/conf/N.conf against N.ok (needs no cmocka).
TESTS += tests/unit/golden.sh
GOLDEN_CONFS = \
	tests/conf/1.conf tests/conf/1.ok tests/conf/2.conf tests/conf/2.ok \
	tests/conf/3.conf tests/conf/3.ok tests/conf/4.conf tests/conf/4.ok \
	tests/conf/5.conf tests/conf/5.ok tests/conf/6.conf tests/conf/6.ok \
	tests/conf/7.conf tests/conf/7.ok tests/conf/8.conf tests/conf/8.ok \
	tests/conf/9.conf tests/conf/9.ok tests/conf/10.conf tests/conf/10.ok \
	tests/conf/11.conf tests/conf/11.ok tests/conf/12.conf tests/conf/12.ok \
	tests/conf/13.conf tests/conf/13.ok tests/conf/14.conf tests/conf/14.ok \
	tests/conf/15.conf tests/conf/15.ok tests/conf/16.conf tests/conf/16.ok \
	tests/conf/17.conf tests/conf/17.ok tests/conf/18.conf tests/conf/18.ok
# hostint: host networking statements
GOLDEN_CONFS += tests/conf/30.conf tests/conf/30.ok tests/conf/31.conf tests/conf/31.ok \
	tests/conf/32.conf tests/conf/32.ok tests/conf/33.conf tests/conf/33.ok \
	tests/conf/34.conf tests/conf/34.ok
# graceful restart
GOLDEN_CONFS += tests/conf/40.conf tests/conf/40.ok tests/conf/41.conf tests/conf/41.ok \
	tests/conf/42.conf tests/conf/42.ok tests/conf/43.conf tests/conf/43.ok \
	tests/conf/44.conf tests/conf/44.ok
EXTRA_DIST += tests/unit/golden.sh $(GOLDEN_CONFS)

# No dependency circle between hgwd's object files but ctl<->cmd, no daemon/ file over 1,000 lines (issue 9).
TESTS += tests/depcheck.sh
EXTRA_DIST += tests/depcheck.sh tests/depcheck.py

# The namespace lab (pytest, as root); runs after the unit tests (not with
# --disable-lab-tests, as in make distcheck).
if LAB_TESTS
TESTS += tests/lab/run.sh
endif
# --enable-lab-tests=EXPR: only the lab tests pytest -k EXPR selects.
AM_TESTS_ENVIRONMENT = if test -n '$(LAB_SELECT)'; then \
	PYTEST_ADDOPTS="$${PYTEST_ADDOPTS:+$$PYTEST_ADDOPTS }-k '$(LAB_SELECT)'"; export PYTEST_ADDOPTS; fi;
EXTRA_DIST += tests/lab/run.sh tests/lab/hgwlab.py tests/lab/conftest.py tests/lab/demo.py \
	tests/lab/test_hostgw.py tests/lab/test_failures.py tests/lab/test_policy.py \
	tests/lab/test_config_cli.py tests/lab/test_wire.py tests/lab/test_lab_selftest.py \
	tests/lab/test_cli.py tests/lab/test_tty.py tests/lab/test_hostile.py tests/lab/test_tls.py \
	tests/lab/test_leases.py tests/lab/test_members.py tests/lab/hgwwire.py tests/lab/test_trust.py \
	tests/lab/selftest_cases.py \
	tests/lab/test_schema.py tests/lab/test_install.py \
	tests/lab/test_cni.py tests/lab/labcni.py tests/lab/test_one_config.py tests/lab/test_linkflap.py tests/lab/test_graceful_restart.py \
	tests/setup.sh tests/check.sh tests/demo.sh
# The lab library by concern (hgwlab.py re-exports them all); tests/bench/bench.py imports labproc and labdaemon.
EXTRA_DIST += tests/lab/labproc.py tests/lab/labtopo.py tests/lab/labdaemon.py tests/lab/labexpect.py \
	tests/lab/lablease.py tests/lab/labswitch.py
EXTRA_DIST += tests/lsan.supp
# Issue 13 (service): the golden configs of log/http/protocol names, and the lab test.
EXTRA_DIST += tests/conf/19.conf tests/conf/19.ok tests/conf/20.conf tests/conf/20.ok \
	tests/conf/21.conf tests/conf/21.ok tests/conf/22.conf tests/conf/22.ok \
	tests/conf/23.conf tests/conf/23.ok tests/lab/test_service.py
# Issue 14 (encap vxlan): golden configs of encap and mesh-network, the two-LAN lab and its test.
GOLDEN_CONFS += tests/conf/50.conf tests/conf/50.ok tests/conf/51.conf tests/conf/51.ok \
	tests/conf/52.conf tests/conf/52.ok tests/conf/53.conf tests/conf/53.ok \
	tests/conf/54.conf tests/conf/54.ok tests/conf/55.conf tests/conf/55.ok \
	tests/conf/56.conf tests/conf/56.ok
EXTRA_DIST += tests/lab/labvxlan.py tests/lab/test_vxlan.py

# make soak (as root): the lab's long soaks, not part of make check (a LAN
# with 20 % loss and 200 ms delay for 60 s, tests/lab/test_linkflap.py).
soak: daemon/hgwd$(EXEEXT) cli/hgwsh$(EXEEXT)
	HGW_LAB_MARKS=soak srcdir=$(srcdir) $(SHELL) $(srcdir)/tests/lab/run.sh

.PHONY: soak
