# tests/fuzz/local.mk: libFuzzer targets (make fuzz) and their seed corpora.
#
#   make fuzz          builds tests/fuzz/fuzz_frame, fuzz_config and fuzz_cmd
#                      with clang, libFuzzer, ASan and UBSan; each compiles the
#                      sources it tests itself (not the gcc-built libraries).
#                      Another compiler: make fuzz FUZZ_CC=clang-14
#   make fuzz-regress  runs every seed and regression input once through each
#   make fuzz-run      fuzzes each target for FUZZ_TIME seconds (default 60),
#                      failing on any crash, leak or timeout (tests/fuzz/run.sh)
FUZZ_CC = clang
FUZZ_TIME = 60
FUZZ_FLAGS = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer -g -O1 $(WARN_CFLAGS) -Wno-format-nonliteral
FUZZ_INCLUDES = $(AM_CPPFLAGS)
FUZZ_PROGS = tests/fuzz/fuzz_frame tests/fuzz/fuzz_config tests/fuzz/fuzz_cmd

FUZZ_FRAME_SRC = $(srcdir)/tests/fuzz/fuzz_frame.c \
	$(srcdir)/proto/wire.c $(srcdir)/proto/addr.c
FUZZ_CONFIG_SRC = $(srcdir)/tests/fuzz/fuzz_config.c $(srcdir)/daemon/config.c $(srcdir)/daemon/config_write.c $(srcdir)/daemon/rtprotos.c $(srcdir)/daemon/config_limits.c \
	$(srcdir)/daemon/util.c $(srcdir)/proto/addr.c $(srcdir)/proto/wire.c
# The daemon's own command table, its handlers compiled out.
FUZZ_CMD_SRC = $(srcdir)/tests/fuzz/fuzz_cmd.c $(srcdir)/daemon/cmdtree.c \
	$(srcdir)/daemon/cmd_table.c
FUZZ_HDRS = $(srcdir)/proto/wire.h $(srcdir)/proto/addr.h \
	$(srcdir)/daemon/config.h $(srcdir)/daemon/util.h $(srcdir)/daemon/cmdtree.h \
	$(srcdir)/daemon/cmd_table.h

fuzz: $(FUZZ_PROGS)

tests/fuzz/fuzz_frame: $(FUZZ_FRAME_SRC) $(FUZZ_HDRS)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_INCLUDES) $(FUZZ_FLAGS) -o $@ $(FUZZ_FRAME_SRC)

tests/fuzz/fuzz_config: $(FUZZ_CONFIG_SRC) $(FUZZ_HDRS)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_INCLUDES) $(FUZZ_FLAGS) -o $@ $(FUZZ_CONFIG_SRC)

tests/fuzz/fuzz_cmd: $(FUZZ_CMD_SRC) $(FUZZ_HDRS)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_INCLUDES) -DHGW_CMD_TABLE_NO_HANDLERS $(FUZZ_FLAGS) \
	    -o $@ $(FUZZ_CMD_SRC)

fuzz-regress: fuzz
	$(SHELL) $(srcdir)/tests/fuzz/run.sh -b tests/fuzz -r

fuzz-run: fuzz
	$(SHELL) $(srcdir)/tests/fuzz/run.sh -b tests/fuzz $(FUZZ_TIME)

.PHONY: fuzz fuzz-regress fuzz-run
CLEANFILES += $(FUZZ_PROGS)
EXTRA_DIST += tests/fuzz/fuzz_frame.c tests/fuzz/fuzz_config.c \
	tests/fuzz/fuzz_cmd.c tests/fuzz/run.sh tests/fuzz/gen_seeds.py \
	tests/fuzz/README.md tests/fuzz/frame.dict tests/fuzz/config.dict \
	tests/fuzz/cmd.dict tests/fuzz/corpus tests/fuzz/regress
