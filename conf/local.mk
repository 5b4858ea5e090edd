# conf/local.mk: man pages, the example configuration, the systemd unit and
# tmpfiles.d entry, the iproute2 protocol name, and the JSON schemas of the
# show commands.
dist_man_MANS += conf/hgwd.8 conf/hgwsh.8 conf/hgwd.conf.5

# The example goes to $(sysconfdir)/hgw/, where hgwd.conf lives by default; a
# file of that name is always replaced, hgwd.conf itself is never installed.
hgwconfdir = $(sysconfdir)/hgw
dist_hgwconf_DATA = conf/hgwd.conf.example

# ip route shows "proto hgw" for hgwd's routes (kernel protocol 77).
rtprotosdir = $(sysconfdir)/iproute2/rt_protos.d
dist_rtprotos_DATA = conf/rt_protos.d/hgw.conf

# The unit and the tmpfiles.d entry carry configure's paths: made from .in
# files with sed at make time (so make prefix=... works too).
conf_edit = $(SED) \
	-e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@localstatedir[@]|$(localstatedir)|g'

conf/hgwd.service: $(srcdir)/conf/hgwd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) conf && rm -f $@ $@.tmp && \
	$(conf_edit) $(srcdir)/conf/hgwd.service.in > $@.tmp && mv $@.tmp $@
conf/hgwd.tmpfiles: $(srcdir)/conf/hgwd.tmpfiles.in Makefile
	$(AM_V_GEN)$(MKDIR_P) conf && rm -f $@ $@.tmp && \
	$(conf_edit) $(srcdir)/conf/hgwd.tmpfiles.in > $@.tmp && mv $@.tmp $@

EXTRA_DIST += conf/hgwd.service.in conf/hgwd.tmpfiles.in
CLEANFILES += conf/hgwd.service conf/hgwd.tmpfiles
noinst_DATA = conf/hgwd.service conf/hgwd.tmpfiles

if HAVE_SYSTEMDUNITDIR
systemdsystemunit_DATA = conf/hgwd.service
endif

# tmpfiles.d(5) wants NAME.conf: installed as hgwd.conf by a hook (automake
# installs a file only under its own name).
if HAVE_TMPFILESDIR
install-data-local: install-tmpfiles
uninstall-local: uninstall-tmpfiles
endif
install-tmpfiles: conf/hgwd.tmpfiles
	$(MKDIR_P) '$(DESTDIR)$(tmpfilesdir)'
	$(INSTALL_DATA) conf/hgwd.tmpfiles '$(DESTDIR)$(tmpfilesdir)/hgwd.conf'
uninstall-tmpfiles:
	rm -f '$(DESTDIR)$(tmpfilesdir)/hgwd.conf'
.PHONY: install-tmpfiles uninstall-tmpfiles

# The JSON Schema of each "show ... json" (tests/lab/test_schema.py checks the
# daemon's output against them), and the page on their conventions.
HGW_SCHEMAS = conf/schema/show-debugging.json conf/schema/show-fib.json \
	conf/schema/show-leases.json conf/schema/show-logging.json \
	conf/schema/show-members.json conf/schema/show-peers.json conf/schema/show-routes.json \
	conf/schema/show-running-config.json conf/schema/show-summary.json \
	conf/schema/show-version.json
schemadir = $(pkgdatadir)/schema
dist_schema_DATA = $(HGW_SCHEMAS)
dist_doc_DATA += conf/json-schema.md
