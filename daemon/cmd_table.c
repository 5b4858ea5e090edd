/* cmd_table.c: every command of the daemon in one table, pure data: syntax,
 * help, modes, flags and handler. The daemon registers it (cmd.c); the fuzzer
 * and test_cmd_table link it with -DHGW_CMD_TABLE_NO_HANDLERS and cmdtree.c,
 * without the daemon. */
#include "cmd_table.h"

#ifdef HGW_CMD_TABLE_NO_HANDLERS
#define H(fn)	NULL
#else
#include "cmd_handlers.h"
#define H(fn)	fn
#endif

#define R CMD_MODE_ROUTER
#define P CMD_F_PRIV
#define F (CMD_F_PRIV | CMD_F_ROOT)	/* names a file: root only */
#define S "Show running system information\n"
#define LEVELS "[emerg|alert|crit|err|warning|notice|info|debug]"
#define LEVELS_HELP "System is unusable\nAction must be taken at once\nCritical conditions\n" \
	"Errors\nWarnings: session down, hold expiry, refused prefixes\nNormal but significant\n" \
	"Informational (the default)\nDebug (with the debug categories on)"

const struct cmd_def cmd_table[] = {
	/* modes, actions and configuration statements: cmd.c */
	{ CMD_MODE_VIEW, "configure terminal",
	  "Enter configuration mode\nConfigure from the terminal", H(cmd_configure), P },
	{ CMD_MODE_ALL, "write memory",
	  "Write the running configuration\nTo the configuration file (keeping a .bak)", H(cmd_write), P },
	{ CMD_MODE_VIEW, "reload",
	  "Re-read the configuration file and apply the difference (as SIGHUP)", H(cmd_reload), P },
	{ CMD_MODE_VIEW, "clear peer (PEER|*)",
	  "Reset sessions\nReset a peer's session\nPeer address\nEvery peer", H(cmd_clear_peer), P },
	{ CMD_MODE_VIEW, "debug (peer|rib|kernel|all)",
	  "Turn on debug logging\nSessions and messages\nRouting table changes\nKernel writes and events\nEverything",
	  H(cmd_debug), P },
	{ CMD_MODE_VIEW, "no debug (peer|rib|kernel|all)",
	  "Negate a command\nTurn off debug logging\nSessions and messages\nRouting table changes\nKernel writes and events\nEverything",
	  H(cmd_no_debug), P },
	{ CMD_MODE_ALL, "exit", "Leave this mode (or the shell)", H(cmd_exit), 0 },
	{ CMD_MODE_ALL, "quit", "Leave this mode (or the shell)", H(cmd_exit), 0 },
	{ CMD_MODE_CONFIG | R, "end", "Back to the top level", H(cmd_end), 0 },
	{ CMD_MODE_CONFIG | R, "do LINE", "Run a top-level command\nThe command", H(cmd_do), 0 },
	{ CMD_MODE_CONFIG, "hostname WORD", "Set the host name\nThe name", H(cmd_hostname), P },
	{ CMD_MODE_CONFIG, "router hgw", "Configure a routing process\nThe host-gw mesh", H(cmd_router), P },
	{ R, "interface WORD", "The LAN interface\nInterface name, or auto (the default route's)", H(cmd_router_stmt), P },
	{ R, "address ADDRESS", "Advertise this gateway address\nIPv4 or IPv6 address", H(cmd_router_stmt), P },
	{ R, "no address ADDRESS", "Negate a command\nAdvertised gateway\nIPv4 or IPv6 address", H(cmd_router_stmt), P },
	{ R, "node-id A.B.C.D", "Set the node id\nNode id as a dotted quad", H(cmd_router_stmt), P },
	{ R, "no node-id", "Negate a command\nUse the interface's IPv4 address as node id", H(cmd_router_stmt), P },
	{ R, "listen port (1-65535)", "Where to accept sessions\nTCP port\nPort number", H(cmd_router_stmt), P },
	{ R, "network PREFIX", "Announce a container subnet of this node\nIPv4 or IPv6 prefix", H(cmd_router_stmt), P },
	{ R, "no network ROUTE", "Negate a command\nWithdraw a container subnet\nIPv4 or IPv6 prefix", H(cmd_router_stmt), P },
	{ R, "neighbor ADDRESS [port (1-65535)] [max-prefixes (1-4294967295)] [allow-third-party-gateway]",
	  "Add a neighbor to dial\nIts LAN address\nIts hgw port\nPort number\nMost prefixes it may announce\nNumber\nAccept gateways and origins other than its own",
	  H(cmd_router_stmt), P },
	{ R, "cluster-network PREFIX", "Accept only prefixes inside this network (repeatable)\nIPv4 or IPv6 prefix",
	  H(cmd_router_stmt), P },
	{ R, "no cluster-network PREFIX", "Negate a command\nCluster network\nIPv4 or IPv6 prefix", H(cmd_router_stmt), P },
	{ R, "allow PREFIX", "Accept sessions from this network besides the LAN\nIPv4 or IPv6 prefix", H(cmd_router_stmt), P },
	{ R, "no allow PREFIX", "Negate a command\nAllowed source network\nIPv4 or IPv6 prefix", H(cmd_router_stmt), P },
	{ R, "max-prefixes (1-4294967295)", "Most prefixes any peer may announce\nNumber", H(cmd_router_stmt), P },
	{ R, "no max-prefixes", "Negate a command\nNo prefix limit", H(cmd_router_stmt), P },
	{ R, "secret-file WORD", "TLS 1.3 with a pre-shared key from this file\nAbsolute path", H(cmd_router_stmt), F },
	{ R, "no secret-file", "Negate a command\nNo pre-shared key", H(cmd_router_stmt), F },
	{ R, "tls ca WORD cert WORD key WORD",
	  "Mutual TLS 1.3 with certificates\nCA certificate\nPath\nThis node's certificate\nPath\nIts private key\nPath",
	  H(cmd_router_stmt), F },
	{ R, "tls ca WORD cert WORD key WORD crl WORD",
	  "Mutual TLS 1.3 with certificates\nCA certificate\nPath\nThis node's certificate\nPath\nIts private key\nPath\nRevoked certificates (a PEM CRL of the CA)\nPath",
	  H(cmd_router_stmt), F },
	{ R, "no tls", "Negate a command\nNo certificates", H(cmd_router_stmt), F },
	{ R, "cluster-network PREFIX subnet-length (1-128)",
	  "Accept only prefixes inside this network (repeatable)\nIPv4 or IPv6 prefix\nLease this node a subnet of it\nSubnet length",
	  H(cmd_router_stmt), P },
	{ R, "lease-hold WORD", "How long a departed node's lease stays reserved\nSeconds, or with s, m or h",
	  H(cmd_router_stmt), P },
	{ R, "lease-file WORD", "Where this node keeps its lease across restarts\nAbsolute path", H(cmd_router_stmt), F },
	{ R, "subnet-env WORD", "Where to write flannel's subnet.env\nAbsolute path", H(cmd_router_stmt), F },
	{ R, "ip-masq", "Masquerade container traffic leaving the cluster network (default with one)",
	  H(cmd_router_stmt), P },
	{ R, "ip-forward enable", "IP forwarding\nTurn net.ipv4.ip_forward (and IPv6 forwarding) on",
	  H(cmd_router_stmt), P },
	{ R, "no ip-masq", "Negate a command\nNo masquerade rules; FLANNEL_IPMASQ=false",
	  H(cmd_router_stmt), P },
	{ R, "no ip-forward", "Negate a command\nLeave the forwarding sysctls alone",
	  H(cmd_router_stmt), P },
	{ R, "discovery multicast", "Find members on the LAN without configuration\nBy a multicast beacon",
	  H(cmd_router_stmt), P },
	{ R, "no discovery", "Negate a command\nNo discovery beacon", H(cmd_router_stmt), P },
	{ R, "no neighbor PEER", "Negate a command\nRemove a neighbor\nIts address", H(cmd_router_stmt), P },
	{ R, "timers keepalive SECONDS hold SECONDS",
	  "Session timers\nKeepalive interval\nSeconds, one decimal allowed\nHold time\nSeconds, one decimal allowed",
	  H(cmd_router_stmt), P },
	{ R, "timers giveup SECONDS",
	  "Session timers\nHow long a silent learned member is dialled before it is forgotten (at least 3 x hold)\nSeconds",
	  H(cmd_router_stmt), P },
	{ R, "timers startup SECONDS",
	  "Session timers\nLongest wait for every neighbor's table before removing stale routes\nSeconds",
	  H(cmd_router_stmt), P },
	{ R, "no timers", "Negate a command\nDefault timers", H(cmd_router_stmt), P },
	{ R, "kernel [protocol WORD] [table (1-4294967295)] [metric (0-4294967295)]",
	  "Kernel routes\nRoute protocol\nNumber 5..255, or a name of /etc/iproute2/rt_protos (hgw)\nRouting table\nTable id\nRoute metric\nMetric",
	  H(cmd_kernel), P },
	{ R, "kernel (on|off)", "Kernel routes\nInstall routes\nDo not touch the kernel", H(cmd_router_stmt), P },

	/* show: cmd_show.c, lease.c (leases), members.c (members) */
	{ CMD_MODE_ALL, "show summary [json]",
	  S "This node: identity, networks, peers, routes, kernel\nJSON output", H(cmd_show_summary), 0 },
	{ CMD_MODE_ALL, "show peers [PEER] [detail] [json]",
	  S "Sessions with other nodes\nOne peer\nEverything about each peer\nJSON output",
	  H(cmd_show_peers), 0 },
	{ CMD_MODE_ALL, "show routes [ROUTE] [json]",
	  S "The RIB: every path, the best, conflicts, kernel state\nOne prefix\nJSON output",
	  H(cmd_show_routes), 0 },
	{ CMD_MODE_ALL, "show fib [json]",
	  S "The kernel's routes of our protocol, against the RIB\nJSON output", H(cmd_show_fib), 0 },
	{ CMD_MODE_ALL, "show running-config [json]", S "The configuration in effect\nJSON output",
	  H(cmd_show_running), 0 },
	{ CMD_MODE_ALL, "show version [json]", S "Software version\nJSON output", H(cmd_show_version), 0 },
	{ CMD_MODE_ALL, "show leases [json]",
	  S "Subnet leases of the cluster network\nJSON output",
	  H(cmd_show_leases), 0 },
	{ CMD_MODE_ALL, "show members [json]",
	  S "The nodes of the mesh this node knows\nJSON output",
	  H(cmd_show_members), 0 },

	/* logging and HTTP: cmd_log.c */
	{ CMD_MODE_ALL, "show logging [json]",
	  S "Where the log goes and its recent lines (kept in memory)\nJSON output",
	  H(cmd_show_logging), 0 },
	{ CMD_MODE_ALL, "show debugging [json]",
	  S "Which debug categories are on\nJSON output", H(cmd_show_debugging), 0 },
	{ CMD_MODE_CONFIG, "log (syslog|stderr) " LEVELS,
	  "Where the log goes\nTo syslog (daemon facility)\nTo standard error\n" LEVELS_HELP,
	  H(cmd_daemon_stmt), P },
	{ CMD_MODE_CONFIG, "log file WORD " LEVELS,
	  "Where the log goes\nTo a file\nAbsolute path\n" LEVELS_HELP, H(cmd_daemon_stmt), F },
	{ CMD_MODE_CONFIG, "no log", "Negate a command\nLog to stderr, and syslog with -d",
	  H(cmd_daemon_stmt), P },
	{ CMD_MODE_CONFIG, "http listen ADDRESS [port (1-65535)]",
	  "Metrics and health over HTTP\nServe /metrics, /healthz and /readyz on\nIPv4 or IPv6 address\nTCP port (default 9179)\nPort number",
	  H(cmd_daemon_stmt), P },
	{ CMD_MODE_CONFIG, "no http listen ADDRESS [port (1-65535)]",
	  "Negate a command\nMetrics and health over HTTP\nStop serving on\nIPv4 or IPv6 address\nTCP port\nPort number",
	  H(cmd_daemon_stmt), P },
};

const size_t cmd_table_len = sizeof(cmd_table) / sizeof(cmd_table[0]);
