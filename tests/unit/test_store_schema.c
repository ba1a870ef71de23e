/*
 * test_store_schema.c: a store written by a newer whistle (meta schema
 * above ours) is refused with WH_ESCHEMA and not touched; a bad schema
 * value is corruption; back at our schema it opens with its ops intact.
 *
 * This test plays the newer whistle itself, writing the meta row with
 * liblmdb directly (which wh_store links): the store has no public way
 * to write a schema, on purpose.
 */
#include "test_store_util.h"

#include <lmdb.h>

static void put_schema(const char *dir, const void *v, size_t n)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	REQUIRE(mdb_env_create(&env) == 0);
	REQUIRE(mdb_env_set_maxdbs(env, 10) == 0);
	REQUIRE(mdb_env_open(env, dir, 0, 0600) == 0);
	REQUIRE(mdb_txn_begin(env, NULL, 0, &txn) == 0);
	REQUIRE(mdb_dbi_open(txn, "meta", 0, &dbi) == 0);
	MDB_val k = {6, "schema"}, d = {n, (void *)v};
	REQUIRE(mdb_put(txn, dbi, &k, &d, 0) == 0);
	REQUIRE(mdb_txn_commit(txn) == 0);
	mdb_env_close(env);
}

/* Hash of data.mdb's bytes: "not touched" means byte for byte. */
static void file_hash(const char *dir, uint8_t out[32])
{
	char path[600];
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	FILE *f = fopen(path, "rb");
	REQUIRE(f);
	struct wh_hasher h;
	wh_hasher_init(&h);
	uint8_t buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		wh_hasher_update(&h, buf, n);
	fclose(f);
	wh_hasher_final(&h, out);
}

int main(void)
{
	REQUIRE(wh_crypto_init() == WH_OK);
	struct wh_key *key;
	REQUIRE(wh_key_generate(&key) == WH_OK);
	char dir[512];
	t_tmpdir(dir, "schema");

	struct wh_store *s = t_open(dir, 0, 0);
	struct t_ops o = {0};
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_CASE_CREATE, "XJK", 1, "xicheng/xinjiekou");
	wh_draft_str(&d, WH_F_TITLE, "t");
	t_build(&o, &d, key, WH_HLC_MAKE(T_NOW, 0));
	CHECK_EQ(t_ingest(s, &o, NULL, o.n, 0), 1);
	struct t_state want = t_state_of(s);
	wh_store_close(s);

	const uint8_t newer[4] = {WH_STORE_SCHEMA + 1, 0, 0, 0};
	put_schema(dir, newer, 4);
	uint8_t h0[32], h1[32];
	file_hash(dir, h0);
	s = (struct wh_store *)&d; /* must be reset to NULL */
	CHECK_EQ(wh_store_open(dir, NULL, &s), WH_ESCHEMA);
	CHECK(s == NULL);
	struct wh_store_opts grow_it = {1u << 30, 0, 0};
	CHECK_EQ(wh_store_open(dir, &grow_it, &s), WH_ESCHEMA);
	file_hash(dir, h1);
	CHECK(!memcmp(h0, h1, 32));

	const uint8_t zero[4] = {0};
	put_schema(dir, zero, 4);
	CHECK_EQ(wh_store_open(dir, NULL, &s), WH_ECORRUPT);
	put_schema(dir, "x", 1);
	CHECK_EQ(wh_store_open(dir, NULL, &s), WH_ECORRUPT);

	const uint8_t ours[4] = {WH_STORE_SCHEMA, 0, 0, 0};
	put_schema(dir, ours, 4);
	s = t_open(dir, 0, 0);
	struct t_state got = t_state_of(s);
	CHECK(t_state_eq(&want, &got));
	struct wh_store_info in;
	REQUIRE(wh_store_info(s, &in) == WH_OK);
	CHECK_EQ(in.schema, WH_STORE_SCHEMA);
	wh_store_close(s);

	t_rmdir(dir);
	t_ops_free(&o);
	wh_key_free(key);
	return wh_test_done("test_store_schema");
}
