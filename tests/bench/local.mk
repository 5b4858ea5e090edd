# tests/bench/local.mk: make bench (issue 5): the benchmark suite, not part of make check.
#
#   make bench                 builds the daemon, the shell and the two helpers
#                              below, then runs tests/bench/bench.py as root: it
#                              makes its own network namespaces, installs bird2
#                              when missing, and writes bench-results.json and
#                              bench-results.md in the build directory.
#   make bench BENCH_FLAGS='--quick'          small sizes, one run each
#   make bench BENCH_FLAGS='--only B,C'       some parts only
#
# nlwriter (part A, the raw netlink baseline) and hgwload (load-generator peer,
# 1000-session driver and route watcher, built on proto/) are EXTRA_PROGRAMS:
# never built by plain make, never installed.
EXTRA_PROGRAMS = tests/bench/nlwriter tests/bench/hgwload
tests_bench_nlwriter_SOURCES = tests/bench/nlwriter.c
tests_bench_hgwload_SOURCES = tests/bench/hgwload.c
tests_bench_hgwload_LDADD = proto/libhgwproto.a
# bench.py imports tests/lab/labproc.py and labdaemon.py (in EXTRA_DIST of tests/local.mk).
EXTRA_DIST += tests/bench/bench.py tests/bench/bench_encap.py tests/bench/bench_mesh.py tests/bench/README.md
CLEANFILES += $(EXTRA_PROGRAMS) bench-results.json bench-results.md

BENCH_FLAGS =
bench: tests/bench/nlwriter$(EXEEXT) tests/bench/hgwload$(EXEEXT) \
    daemon/hgwd$(EXEEXT) cli/hgwsh$(EXEEXT)
	$(PYTHON3) $(srcdir)/tests/bench/bench.py --builddir . $(BENCH_FLAGS)

.PHONY: bench
