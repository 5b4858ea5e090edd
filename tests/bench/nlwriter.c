/* nlwriter.c: the kernel baseline of the benchmark suite (issue 5, part A).
 *
 * Inserts N IPv4 routes "P via GW dev IF proto PROTO metric METRIC" with raw
 * rtnetlink, BATCH requests per sendmsg and one ack per batch (the last
 * request of a batch asks for it; a failed request still gets its error
 * back), then deletes them the same way, and prints the timings as JSON.
 * With -b 1 every request carries its own ack: the one-at-a-time reference.
 *
 * Run it inside a scratch network namespace that holds IF with GW on-link:
 * it writes to the main table of whatever namespace it runs in. Prefix i is
 * BASE + i * 2^(32 - PLEN), so with the defaults 10.128.0.0 + i as a /32.
 *
 *   nlwriter -i IF -g GW [-n N] [-b BATCH] [-l PLEN] [-B BASE] [-P PROTO]
 *            [-m METRIC] [-t TABLE] [-o add|del|both]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

#define MSG_MAX 128	/* bytes per encoded request, rounded up */

struct opts {
	unsigned long n, batch;
	unsigned plen, proto, metric, table;
	uint32_t base, gw;	/* host order */
	int ifindex;
	int do_add, do_del;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void
put_attr(uint8_t *msg, size_t *off, int type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)(msg + *off);

	rta->rta_type = (unsigned short)type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	*off += RTA_ALIGN(rta->rta_len);
}

static size_t
encode(const struct opts *o, uint8_t *buf, unsigned long i, int del, uint32_t seq, int ack)
{
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct rtmsg *rtm;
	size_t off = NLMSG_LENGTH(sizeof(*rtm));
	uint32_t dst = htonl(o->base + (uint32_t)(i << (32 - o->plen)));
	uint32_t gw = htonl(o->gw), oif = (uint32_t)o->ifindex;
	uint32_t table = o->table, metric = o->metric;

	memset(buf, 0, MSG_MAX);
	h->nlmsg_type = del ? RTM_DELROUTE : RTM_NEWROUTE;
	h->nlmsg_flags = NLM_F_REQUEST | (ack ? NLM_F_ACK : 0) |
	    (del ? 0 : NLM_F_CREATE | NLM_F_REPLACE);
	h->nlmsg_seq = seq;
	rtm = NLMSG_DATA(h);
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = (uint8_t)o->plen;
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = (uint8_t)o->proto;
	rtm->rtm_scope = del ? RT_SCOPE_NOWHERE : RT_SCOPE_UNIVERSE;
	rtm->rtm_type = del ? RTN_UNSPEC : RTN_UNICAST;
	put_attr(buf, &off, RTA_TABLE, &table, 4);
	put_attr(buf, &off, RTA_DST, &dst, 4);
	put_attr(buf, &off, RTA_GATEWAY, &gw, 4);
	put_attr(buf, &off, RTA_OIF, &oif, 4);
	put_attr(buf, &off, RTA_PRIORITY, &metric, 4);
	h->nlmsg_len = (uint32_t)off;
	return off;
}

/* Reads replies until the ack of last_seq; counts errors. -1 on socket failure. */
static int
wait_ack(int fd, uint8_t *rbuf, size_t rlen, uint32_t last_seq, unsigned long *errors,
    int *first_err)
{
	for (;;) {
		ssize_t len = recv(fd, rbuf, rlen, 0);
		struct nlmsghdr *h;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			perror("nlwriter: recv");
			return -1;
		}
		for (h = (struct nlmsghdr *)rbuf; NLMSG_OK(h, (size_t)len);
		    h = NLMSG_NEXT(h, len)) {
			struct nlmsgerr *e;

			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			e = NLMSG_DATA(h);
			if (e->error != 0) {
				if (*errors == 0)
					*first_err = -e->error;
				(*errors)++;
			}
			if (h->nlmsg_seq == last_seq)
				return 0;
		}
	}
}

/* One pass (all adds or all deletes). Returns the elapsed seconds, or -1. */
static double
run(const struct opts *o, int fd, int del, unsigned long *errors, int *first_err,
    unsigned long *sends, double *cpu)
{
	size_t cap = o->batch * MSG_MAX, rlen = 1 << 20;
	uint8_t *sbuf = malloc(cap), *rbuf = malloc(rlen);
	uint32_t seq = (uint32_t)time(NULL) ^ (del ? 0x55550000u : 0);
	unsigned long done = 0;
	double t0, t1;
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	if (sbuf == NULL || rbuf == NULL) {
		fprintf(stderr, "nlwriter: out of memory\n");
		return -1;
	}
	*errors = 0;
	*sends = 0;
	*cpu = cpu_s();
	t0 = now_s();
	while (done < o->n) {
		size_t off = 0;
		unsigned long cnt = 0;

		while (done + cnt < o->n && cnt < o->batch) {
			int last = done + cnt + 1 == o->n || cnt + 1 == o->batch;

			off += encode(o, sbuf + off, done + cnt, del, seq++, last);
			cnt++;
		}
		for (;;) {
			if (sendto(fd, sbuf, off, 0, (struct sockaddr *)&kernel,
			    sizeof(kernel)) >= 0)
				break;
			if (errno != EINTR) {
				perror("nlwriter: sendto");
				return -1;
			}
		}
		(*sends)++;
		if (wait_ack(fd, rbuf, rlen, seq - 1, errors, first_err) < 0)
			return -1;
		done += cnt;
	}
	t1 = now_s();
	*cpu = cpu_s() - *cpu;
	free(sbuf);
	free(rbuf);
	return t1 - t0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: nlwriter -i IF -g GW [-n N] [-b BATCH] [-l PLEN] [-B BASE]\n"
	    "                [-P PROTO] [-m METRIC] [-t TABLE] [-o add|del|both]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct opts o = { .n = 100000, .batch = 512, .plen = 32, .proto = 77,
	    .metric = 20, .table = 254, .do_add = 1, .do_del = 1 };
	const char *ifname = NULL, *gw = NULL, *base = "10.128.0.0";
	struct in_addr a;
	int fd, one = 1, size = 32 << 20, ch;
	struct sockaddr_nl local = { .nl_family = AF_NETLINK };
	unsigned long err_add = 0, err_del = 0, s_add = 0, s_del = 0;
	int fe_add = 0, fe_del = 0;
	double ta = -1, td = -1, ca = 0, cd = 0;

	while ((ch = getopt(argc, argv, "i:g:n:b:l:B:P:m:t:o:h")) != -1) {
		switch (ch) {
		case 'i': ifname = optarg; break;
		case 'g': gw = optarg; break;
		case 'n': o.n = strtoul(optarg, NULL, 10); break;
		case 'b': o.batch = strtoul(optarg, NULL, 10); break;
		case 'l': o.plen = (unsigned)atoi(optarg); break;
		case 'B': base = optarg; break;
		case 'P': o.proto = (unsigned)atoi(optarg); break;
		case 'm': o.metric = (unsigned)atoi(optarg); break;
		case 't': o.table = (unsigned)atoi(optarg); break;
		case 'o':
			o.do_add = strcmp(optarg, "del") != 0;
			o.do_del = strcmp(optarg, "add") != 0;
			break;
		default: usage();
		}
	}
	if (ifname == NULL || gw == NULL || o.n == 0 || o.batch == 0 || o.plen == 0 ||
	    o.plen > 32)
		usage();
	if ((o.ifindex = (int)if_nametoindex(ifname)) == 0) {
		fprintf(stderr, "nlwriter: no interface %s\n", ifname);
		return 1;
	}
	if (inet_pton(AF_INET, gw, &a) != 1)
		usage();
	o.gw = ntohl(a.s_addr);
	if (inet_pton(AF_INET, base, &a) != 1)
		usage();
	o.base = ntohl(a.s_addr);
	if (o.plen < 32 && (uint64_t)o.n << (32 - o.plen) > ((uint64_t)1 << 32) - o.base) {
		fprintf(stderr, "nlwriter: %lu /%u prefixes do not fit after %s\n", o.n,
		    o.plen, base);
		return 1;
	}
	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) < 0 ||
	    bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0) {
		perror("nlwriter: netlink socket");
		return 1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));

	if (o.do_add && (ta = run(&o, fd, 0, &err_add, &fe_add, &s_add, &ca)) < 0)
		return 1;
	if (o.do_del && (td = run(&o, fd, 1, &err_del, &fe_del, &s_del, &cd)) < 0)
		return 1;
	printf("{\"n\": %lu, \"batch\": %lu, \"plen\": %u", o.n, o.batch, o.plen);
	if (o.do_add)
		printf(", \"insert_s\": %.6f, \"insert_rate\": %.0f, \"insert_errors\": %lu, "
		    "\"insert_sendmsgs\": %lu, \"insert_cpu_s\": %.3f", ta, (double)o.n / ta, err_add, s_add, ca);
	if (o.do_add && err_add)
		printf(", \"insert_first_error\": \"%s\"", strerror(fe_add));
	if (o.do_del)
		printf(", \"delete_s\": %.6f, \"delete_rate\": %.0f, \"delete_errors\": %lu, "
		    "\"delete_sendmsgs\": %lu, \"delete_cpu_s\": %.3f", td, (double)o.n / td, err_del, s_del, cd);
	if (o.do_del && err_del)
		printf(", \"delete_first_error\": \"%s\"", strerror(fe_del));
	printf("}\n");
	close(fd);
	return (err_add || err_del) ? 3 : 0;
}
