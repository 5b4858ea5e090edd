# conf/local.mk: man pages, the example configuration and the JSON schema of the show commands.
dist_man_MANS += conf/hgwd.8 conf/hgwsh.8 conf/hgwd.conf.5

# The example goes to $(sysconfdir)/hgw/, where hgwd.conf usually lives.
hgwconfdir = $(sysconfdir)/hgw
dist_hgwconf_DATA = conf/hgwd.conf.example

# The keys of every show command's json output, FRR style (hgwsh(8) points here).
dist_doc_DATA = conf/json-schema.md
