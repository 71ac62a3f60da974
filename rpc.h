/*
 * rpc.h - a non-blocking HTTP/1.1 JSON-RPC client for one Bitcoin node,
 * driven by the caller's poll() loop.
 *
 * Nothing blocks but the one name lookup in rpc_new() (to one address,
 * IPv4 preferred) and the read of the node's small cookie file before each
 * new connection.  Each call runs on its own keep-alive connection, out of
 * RPC_MAX_CONN; more wait in a bounded queue.  A call ends in exactly one
 * callback, from rpc_handle() or rpc_cancel_all(), never from rpc_call().
 *
 * Loop integration:
 *     n = rpc_pollfds(r, fds, RPC_MAX_CONN);   fixed slots, fd -1 when idle
 *     t = rpc_timeout_ms(r, now_ms);            shortest deadline, -1: none
 *     poll(...)
 *     rpc_handle(r, fds, n, now_ms);            I/O, timeouts, reconnects
 *
 * A connect that fails or times out ends its call (RPC_ERR_CONNECT or
 * RPC_ERR_TIMEOUT) and puts the node in back-off (1 s doubling to 30 s);
 * while it is down one probe runs at a time, and queued calls wait until
 * their own deadline.  State changes (up, down, credentials refused) are
 * logged once each.  A keep-alive socket the node closed while idle is
 * reopened, and a request that failed on one before any reply byte is
 * retried once on a fresh socket.
 */
#ifndef RPC_H
#define RPC_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"

#ifndef RPC_MAX_CONN
#define RPC_MAX_CONN 4		/* concurrent calls (one is the long poll) */
#endif
#ifndef RPC_MAX_QUEUE
#define RPC_MAX_QUEUE 64	/* calls waiting for a connection */
#endif
#define RPC_MAX_HEADER 16384	/* HTTP status line + headers */

struct rpc_conf {
	const char *host;	/* "http://127.0.0.1", "127.0.0.1", "::1",
				 * "[::1]", "node.lan"; an ":port" suffix on a
				 * URL form is allowed and beats port */
	int port;
	const char *user;	/* NULL or "": use the cookie */
	const char *password;
	const char *cookiefile;	/* NULL or "": default data dirs are tried */
	int connect_timeout_ms;	/* default 5000 */
	int request_timeout_ms;	/* default 30000 (submitblock of 4 MB, slow
				 * getblocktemplate on a Raspberry Pi); the
				 * whole call from rpc_call() to the reply,
				 * queueing included */
	size_t max_body;	/* default 16 MiB */
	const char *name;	/* for log messages, e.g. "node" */
};

enum rpc_status {
	RPC_OK = 0,		/* result is valid (may be JSON null) */
	RPC_ERR_RPC,		/* the node answered a JSON-RPC error */
	RPC_ERR_CONNECT,	/* could not connect (refused, unreachable) */
	RPC_ERR_TIMEOUT,	/* connect, request or response deadline */
	RPC_ERR_IO,		/* connection lost mid-way */
	RPC_ERR_AUTH,		/* HTTP 401/403 */
	RPC_ERR_HTTP,		/* other HTTP status without a JSON-RPC body */
	RPC_ERR_PROTO,		/* garbage instead of HTTP, bad chunking */
	RPC_ERR_TOO_BIG,	/* body over max_body */
	RPC_ERR_JSON,		/* body is not the JSON-RPC reply expected */
	RPC_ERR_NOMEM,
	RPC_ERR_CANCELLED	/* rpc_cancel_all() or rpc_free() */
};

struct rpc_reply {
	enum rpc_status status;
	int http_status;		/* 0 when none was read */
	const struct json_doc *doc;	/* the parsed body, or NULL */
	int result;			/* token of "result", or -1 */
	int64_t code;			/* JSON-RPC error code (RPC_ERR_RPC) */
	const char *message;		/* readable reason for any failure;
					 * RPC_ERR_RPC: the node's own text;
					 * RPC_OK: "" */
	int64_t elapsed_ms;		/* from rpc_call() to this callback */
};

/* Everything in the reply is valid only during the callback. */
typedef void rpc_done_fn(void *arg, const struct rpc_reply *reply);

/* Flags for rpc_call(). */
#define RPC_F_LONGPOLL 1	/* no request/response timeout: the node may
				 * hold the call for minutes */

struct rpc;

/* A client for one node; conf's strings are copied.  Returns NULL with a
 * reason in err (errlen bytes) when conf is bad, the host cannot be
 * resolved or memory runs out. */
struct rpc *rpc_new(const struct rpc_conf *conf, char *err, size_t errlen);

/* Cancels every call (callbacks run with RPC_ERR_CANCELLED) and frees.
 * NULL is ignored.  Not to be called from inside a callback. */
void rpc_free(struct rpc *r);

/*
 * Queue a call.  params is the JSON text of the positional parameter array
 * ("[]" when none or NULL), copied, not checked.  Returns 0, or -1 when the
 * queue is full, memory runs out, method or done is NULL, or rpc_free() is
 * running (no callback then).
 */
int rpc_call(struct rpc *r, const char *method, const char *params,
    int flags, rpc_done_fn *done, void *arg);

/* Fill exactly RPC_MAX_CONN pollfd slots (fd -1 for unused ones); returns
 * RPC_MAX_CONN, or -1 (nothing filled) when max < RPC_MAX_CONN. */
int rpc_pollfds(struct rpc *r, struct pollfd *fds, int max);

/* Milliseconds until the next deadline or reconnect attempt, or -1. */
int rpc_timeout_ms(const struct rpc *r, int64_t now_ms);

/* Do the I/O that poll() reported on the slots rpc_pollfds() filled, start
 * queued calls, expire deadlines.  Callbacks run from here. */
void rpc_handle(struct rpc *r, const struct pollfd *fds, int n,
    int64_t now_ms);

/* Ends every queued and running call with RPC_ERR_CANCELLED. */
void rpc_cancel_all(struct rpc *r);

/* 1 when the last connection attempt or call reached the node. */
int rpc_is_up(const struct rpc *r);

/* Milliseconds on CLOCK_MONOTONIC: the clock rpc_handle() expects. */
int64_t rpc_now_ms(void);

#endif
