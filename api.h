/*
 * api.h - the read-only status HTTP server, served from the pool's own
 * poll() loop: GET /api/pool, /api/users/<address>, /api/blocks (JSON,
 * documents described in stats.h), /metrics (Prometheus text), / (one
 * self-contained HTML dashboard, no external assets).  HTTP/1.1,
 * keep-alive, bounded: API_MAX_REQUEST bytes of request head (431 past
 * it), no request bodies (413 for a Content-Length other than 0 or any
 * Transfer-Encoding), GET and HEAD only (405), unknown paths and
 * addresses 404, malformed requests (and addresses with characters other
 * than letters and digits) 400; after a 400, 405, 413 or 431 the
 * connection is closed.  A connection that has not completed a request
 * within API_IDLE_MS of connecting or of its previous answer, or leaves an
 * answer unread that long, is closed.  Nothing a client sends can block
 * the loop: sockets are non-blocking, each reply is built whole (at most
 * API_MAX_REPLY bytes, else 500) and queued, and a connection with a
 * reply pending is not read from.  When all API_MAX_CONN slots are taken,
 * the longest-idle keep-alive connection between requests is closed for a
 * newcomer; if every one is mid-request, the newcomer gets 503 and is
 * closed.
 */
#ifndef API_H
#define API_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "stats.h"

#define API_MAX_REQUEST 8192
#define API_MAX_REPLY (4L * 1024 * 1024)	/* /metrics with 1000 workers */
#define API_IDLE_MS 10000
#ifndef API_MAX_CONN
#define API_MAX_CONN 16		/* concurrent HTTP connections */
#endif

/* Fills *out with the pool-wide facts at the time of a request. */
typedef void api_info_fn(void *arg, struct stats_pool_info *out);

struct api;

/*
 * Listen on host:port ("127.0.0.1" when host is NULL or ""; any other
 * address only when configured so; port 0: any free port, see
 * api_port()).  Returns NULL with a reason in err (errlen bytes).
 * stats must outlive the api.  info may be NULL (facts left zero).
 */
struct api *api_new(const char *host, int port, struct stats *stats,
    api_info_fn *info, void *arg, char *err, size_t errlen);
void api_free(struct api *a);

/* The port listened on (useful after port 0), or -1. */
int api_port(const struct api *a);

/* Exactly API_MAX_CONN + 1 slots (the listener first), fd -1 when unused;
 * returns API_MAX_CONN + 1, or -1 (nothing written) when max is less. */
int api_pollfds(struct api *a, struct pollfd *fds, int max);
/* After poll() on the n slots api_pollfds() filled: accept, read, answer,
 * expire idle connections.  now_ms is a monotonic clock (the one the
 * loop uses); the documents' times come from time(NULL). */
void api_handle(struct api *a, const struct pollfd *fds, int n,
    int64_t now_ms);
/* Milliseconds until the next idle deadline (0 if past), or -1. */
int api_timeout_ms(const struct api *a, int64_t now_ms);

#endif
