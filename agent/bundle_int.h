/*
 * bundle_int.h: what the `whistle bundle` command files share.
 *
 *   cmd_bundle.c        the group, `bundle create`, and the helpers below
 *   cmd_bundle_apply.c  `bundle apply` and `bundle show`
 *
 * The bundle itself is op file version 2 (crdt/opfile.h); cutting one
 * from the store and what peers hold live in carry.c.
 */
#ifndef WH_BUNDLE_INT_H
#define WH_BUNDLE_INT_H

#include "cli.h"
#include "opfile.h"
#include "progress.h"
#include "transport.h"

/* A whole file read into memory (mapped when it can be). */
struct bfile {
	uint8_t *p;
	size_t n;
	int mapped;
};
/* CLI_OK or CLI_FAIL with the message printed. At most 2 GiB. */
int bfile_read(const struct cli *c, const char *file, struct bfile *f);
void bfile_free(struct bfile *f);

/* Why a bundle's container was refused, worded for a person (the file,
 * the reason, the byte offset where it helps), ending "nothing
 * applied" (or nothing shown): CLI_FAIL. */
int bundle_refused(const struct cli *c, const char *file, int rc, size_t off,
		   size_t size, const char *nothing);

/* Who a key is to this station: 1 and its name and path if it is this
 * station, a roster member now (a home bound to an authority) or in the
 * trust list (lab mode); 0 if none. In a bound home, rosters[0..n) (the
 * ones a bundle carries, not yet installed) count too, each only if the
 * held rosters would take it (wh_roster_set_check): the authority's
 * signature vouches for them, so a station bound but not yet reached by
 * any roster can still take its first bundle. */
int bundle_who(struct cli *c, const uint8_t pk[WH_PK_BYTES],
	       char name[WH_NET_NAME_MAX + 1], char path[WH_PATH_MAX + 1]);
int bundle_who_with(struct cli *c, const uint8_t pk[WH_PK_BYTES],
		    const struct wh_slice *rosters, size_t n,
		    char name[WH_NET_NAME_MAX + 1],
		    char path[WH_PATH_MAX + 1]);

#endif
