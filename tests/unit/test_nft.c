/* test_nft.c: unit tests for daemon/nft.c's pure parts: the masquerade ruleset
 * text (flanneld's --ip-masq rules), the forward accept rules, and the parser
 * that finds the host's forward chains that would drop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "nft.h"

static struct hgw_prefix
pfx(const char *s)
{
	struct hgw_prefix p;

	if (hgw_prefix_parse(s, &p, NULL) < 0)
		fail_msg("bad prefix in the test: %s", s);
	return p;
}

static void
test_masq_v4(void **state)
{
	struct nft_masq_params p;
	char buf[4096];
	int n, len;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.cluster[p.ncluster++] = pfx("10.244.0.0/16");
	p.own[p.nown++] = pfx("10.244.3.0/24");
	len = nft_masq_ruleset(&p, buf, sizeof(buf), &n);
	assert_int_equal(len, (int)strlen(buf));
	assert_int_equal(n, 4);
	assert_string_equal(buf,
	    "add table inet hgw\n"
	    "delete table inet hgw\n"
	    "table inet hgw {\n"
	    "\tchain postrouting {\n"
	    "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
	    "\t\tip saddr { 10.244.0.0/16 } ip daddr { 10.244.0.0/16 } return\n"
	    "\t\tip saddr { 10.244.0.0/16 } ip daddr != 224.0.0.0/4 masquerade fully-random\n"
	    "\t\tip saddr != { 10.244.0.0/16 } ip daddr { 10.244.3.0/24 } return\n"
	    "\t\tip saddr != { 10.244.0.0/16 } ip daddr { 10.244.0.0/16 } masquerade fully-random\n"
	    "\t}\n"
	    "}\n");
}

static void
test_masq_dual_stack(void **state)
{
	struct nft_masq_params p;
	char buf[4096];
	int n;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.cluster[p.ncluster++] = pfx("fd00:244::/48");
	p.cluster[p.ncluster++] = pfx("10.244.0.0/16");
	p.cluster[p.ncluster++] = pfx("10.245.0.0/16");
	p.own[p.nown++] = pfx("fd00:244:0:7::/64");
	/* No IPv4 subnet of our own: the "outside to ours" rule is left out. */
	assert_true(nft_masq_ruleset(&p, buf, sizeof(buf), &n) > 0);
	assert_int_equal(n, 3 + 4);
	assert_non_null(strstr(buf,
	    "\t\tip saddr { 10.244.0.0/16, 10.245.0.0/16 } ip daddr { 10.244.0.0/16, 10.245.0.0/16 } return\n"
	    "\t\tip saddr { 10.244.0.0/16, 10.245.0.0/16 } ip daddr != 224.0.0.0/4 masquerade fully-random\n"
	    "\t\tip saddr != { 10.244.0.0/16, 10.245.0.0/16 } ip daddr { 10.244.0.0/16, 10.245.0.0/16 } masquerade fully-random\n"
	    "\t\tip6 saddr { fd00:244::/48 } ip6 daddr { fd00:244::/48 } return\n"
	    "\t\tip6 saddr { fd00:244::/48 } ip6 daddr != ff00::/8 masquerade fully-random\n"
	    "\t\tip6 saddr != { fd00:244::/48 } ip6 daddr { fd00:244:0:7::/64 } return\n"
	    "\t\tip6 saddr != { fd00:244::/48 } ip6 daddr { fd00:244::/48 } masquerade fully-random\n"
	    "\t}\n}\n"));
	/* IPv4 rules come before IPv6 ones whatever the order given. */
	assert_true(strstr(buf, "ip saddr") < strstr(buf, "ip6 saddr"));
}

static void
test_masq_limits(void **state)
{
	struct nft_masq_params p;
	char buf[4096];
	int n = -7, len;

	(void)state;
	memset(&p, 0, sizeof(p));
	/* No cluster network: an empty chain (nothing masqueraded). */
	assert_true(nft_masq_ruleset(&p, buf, sizeof(buf), &n) > 0);
	assert_int_equal(n, 0);
	assert_null(strstr(buf, "masquerade"));
	p.cluster[p.ncluster++] = pfx("10.244.0.0/16");
	len = nft_masq_ruleset(&p, buf, sizeof(buf), NULL);
	/* Every buffer shorter than the text fails; the exact length fits. */
	assert_int_equal(nft_masq_ruleset(&p, buf, (size_t)len, NULL), -1);
	assert_int_equal(nft_masq_ruleset(&p, buf, (size_t)len + 1, NULL), len);
	assert_int_equal(nft_masq_ruleset(&p, buf, 0, NULL), -1);
	/* A prefix of no family, and too many prefixes, are refused. */
	memset(&p.own[0], 0, sizeof(p.own[0]));
	p.nown = 1;
	assert_int_equal(nft_masq_ruleset(&p, buf, sizeof(buf), NULL), -1);
	p.nown = 0;
	p.ncluster = NFT_MAX_NETS + 1;
	assert_int_equal(nft_masq_ruleset(&p, buf, sizeof(buf), NULL), -1);
}

static void
test_forward_rules(void **state)
{
	struct nft_masq_params p;
	struct nft_chain_ref ip = { "ip", "filter", "FORWARD" };
	struct nft_chain_ref ip6 = { "ip6", "filter", "FORWARD" };
	struct nft_chain_ref inet = { "inet", "filter", "forward" };
	char buf[4096];
	int n;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.cluster[p.ncluster++] = pfx("10.244.0.0/16");
	p.cluster[p.ncluster++] = pfx("fd00:244::/48");
	assert_true(nft_forward_rules(&ip, &p, buf, sizeof(buf), &n) > 0);
	assert_int_equal(n, 2);
	assert_string_equal(buf,
	    "insert rule ip filter FORWARD ip saddr { 10.244.0.0/16 } counter accept comment \"hgw-forward\"\n"
	    "insert rule ip filter FORWARD ip daddr { 10.244.0.0/16 } counter accept comment \"hgw-forward\"\n");
	assert_true(nft_forward_rules(&ip6, &p, buf, sizeof(buf), &n) > 0);
	assert_int_equal(n, 2);
	assert_null(strstr(buf, "10.244"));
	assert_non_null(strstr(buf, "insert rule ip6 filter FORWARD ip6 daddr { fd00:244::/48 }"));
	assert_true(nft_forward_rules(&inet, &p, buf, sizeof(buf), &n) > 0);
	assert_int_equal(n, 4);
	/* An IPv6 chain and only IPv4 clusters: nothing to add. */
	p.ncluster = 1;
	assert_int_equal(nft_forward_rules(&ip6, &p, buf, sizeof(buf), &n), 0);
	assert_int_equal(n, 0);
	assert_string_equal(buf, "");
	assert_int_equal(nft_forward_rules(&ip, &p, buf, 20, &n), -1);
}

static const char listing[] =
    "table ip filter {\n"
    "\tchain INPUT {\n"
    "\t\ttype filter hook input priority filter; policy drop;\n"
    "\t}\n"
    "\tchain FORWARD {\n"
    "\t\ttype filter hook forward priority filter; policy drop;\n"
    "\t}\n"
    "\tchain DOCKER-USER {\n"
    "\t}\n"
    "}\n"
    "table ip6 filter {\n"
    "\tchain FORWARD {\n"
    "\t\ttype filter hook forward priority filter; policy accept;\n"
    "\t}\n"
    "}\n"
    "table inet hgw {\n"
    "\tchain fwd {\n"
    "\t\ttype filter hook forward priority filter; policy drop;\n"
    "\t}\n"
    "}\n"
    "table bridge br {\n"
    "\tchain forward {\n"
    "\t\ttype filter hook forward priority filter; policy drop;\n"
    "\t}\n"
    "}\n"
    "table inet firewall {\n"
    "\tchain fwd-v2 {\n"
    "\t\ttype filter hook forward priority 0; policy drop;\n"
    "\t}\n"
    "}\n";

static void
test_parse_drop_chains(void **state)
{
	struct nft_chain_ref c[4];
	int n;

	(void)state;
	n = nft_parse_drop_chains(listing, c, 4);
	/* ip filter FORWARD and inet firewall fwd-v2: not the input chain,
	 * not the accepting ip6 one, not ours, not the bridge family. */
	assert_int_equal(n, 2);
	assert_string_equal(c[0].family, "ip");
	assert_string_equal(c[0].table, "filter");
	assert_string_equal(c[0].chain, "FORWARD");
	assert_string_equal(c[1].family, "inet");
	assert_string_equal(c[1].table, "firewall");
	assert_string_equal(c[1].chain, "fwd-v2");
	assert_int_equal(nft_parse_drop_chains(listing, c, 1), 1);
	assert_int_equal(nft_parse_drop_chains("", c, 4), 0);
	/* A name with characters we would have to quote is skipped. */
	assert_int_equal(nft_parse_drop_chains("table ip f\"x {\n\tchain F {\n"
	    "\t\ttype filter hook forward priority 0; policy drop;\n\t}\n}\n", c, 4), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_masq_v4),
		cmocka_unit_test(test_masq_dual_stack),
		cmocka_unit_test(test_masq_limits),
		cmocka_unit_test(test_forward_rules),
		cmocka_unit_test(test_parse_drop_chains),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
