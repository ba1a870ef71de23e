/*
 * fuzz_syncio.h: a station held in memory for the sync session
 * (struct wh_sync_io without a store), so fuzz_sync can feed a session
 * a peer's messages and mkcorpus can record what a real peer says in a
 * real sync (the seeds fuzz_sync replays).
 *
 * A node holds up to FZ_MAX_OPS ops (ingest verifies and adds, as the
 * store would, within the session's scope), maybe the one attachment
 * content of fuzz_gen.c's story ("photo"), a clock that moves only when
 * told and a deterministic random stream, so the same messages in give
 * the same session every time. Its digest is the xor of the ids in
 * scope: not the store's formula, but the same on both ends, which is
 * all the session compares.
 */
#ifndef WH_FUZZ_SYNCIO_H
#define WH_FUZZ_SYNCIO_H

#include "fuzz_gen.h"
#include "sync.h"

struct fz_node {
	const char *path;
	enum wh_role role;
	unsigned key; /* fz_key index */
	struct fz_ops held;
	int have_photo;
	struct wh_buf part; /* the content being received */
	uint64_t now_ms;
	uint64_t rnd;
	/* Every message the session sends; may be NULL. */
	void (*on_send)(void *ctx, const uint8_t *p, size_t n);
	void *send_ctx;
};

/* A node for path with ops[from..to) of o held; see fz_node_fini. */
void fz_node_init(struct fz_node *n, const char *path, enum wh_role role,
		  unsigned key, const struct fz_ops *o, size_t from, size_t to,
		  int have_photo);
void fz_node_fini(struct fz_node *n);

/* The two ends fuzz_sync and its seeds use. The station under test
 * (street: the street hub, else the community station) holds the story
 * but its last six ops, and the problem lists; its peer (the other of
 * the two) holds the story from its fifth op on and the photo. */
void fz_node_station(struct fz_node *n, int street, const struct fz_ops *story,
		     const struct fz_ops *plist);
void fz_node_peer(struct fz_node *n, int street, const struct fz_ops *story);

/* The io of n (ctx is n). */
struct wh_sync_io fz_node_io(struct fz_node *n);

/* A session of n with the peer whose key is fz_key(peer_key). */
WH_MUST_CHECK int fz_node_session(struct fz_node *n, uint32_t proto_max,
				  unsigned peer_key, struct wh_sync **out);

#endif
