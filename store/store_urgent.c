/*
 * store_urgent.c: which ops go first while an emergency is in force
 * (store.h, "Urgent first"). The class is read from what this store
 * holds (the op's kind, its case's view), so a sender orders by signed
 * facts, never by what a peer says.
 */
#include "store.h"

#include "case.h"
#include "op.h"

#include <string.h>

int wh_store_op_urgent(struct wh_store *s, const uint8_t *p, size_t n,
		       int *urgent)
{
	if (!s || !p || !urgent)
		return WH_EINVAL;
	*urgent = 0;
	struct wh_op o;
	int rc = wh_op_decode(p, n, &o);
	if (rc != WH_OK)
		return rc;
	if (o.kind >= WH_OP_EMERGENCY && o.kind <= WH_OP_PLAN_TASK_DEL) {
		*urgent = 1; /* emergencies and plans: tasks come from them */
		return WH_OK;
	}
	if (wh_code_is_doc(o.code))
		return WH_OK;
	/* The op itself may say so (a create or a change of priority not
	 * yet folded here, or a task's link). */
	const struct wh_field *f = wh_op_field(&o, WH_F_PRIORITY);
	if ((f && f->type == WH_T_UINT && f->u == WH_PRI_URGENT) ||
	    wh_op_field(&o, WH_F_EMERGENCY)) {
		*urgent = 1;
		return WH_OK;
	}
	struct wh_case c;
	rc = wh_store_case_get(s, o.code, o.seq, &c);
	if (rc == WH_ENOTFOUND)
		return WH_OK;
	if (rc != WH_OK)
		return rc;
	*urgent = c.em_code[0] != '\0' || c.priority == WH_PRI_URGENT;
	wh_case_fini(&c);
	return WH_OK;
}

int wh_store_urgent_scope(struct wh_store *s, const char *scope,
			  uint64_t now_ms, int *on)
{
	if (!s || !on)
		return WH_EINVAL;
	*on = 0;
	uint64_t gen = 0;
	int rc = wh_store_emergency_gen(s, &gen);
	if (rc != WH_OK || gen == 0)
		return rc; /* never an emergency or plan here: no walk */
	size_t n = 0;
	rc = wh_store_emergency_active(s, scope, now_ms,
				       WH_EM_COVERS | WH_EM_WITHIN, NULL, NULL,
				       &n);
	*on = rc == WH_OK && n > 0;
	return rc;
}

int wh_store_relay_claim(struct wh_store *s, const char *trusted,
			 const char *claimed, uint64_t now_ms, int *ok)
{
	if (!s || !trusted || !claimed || !ok)
		return WH_EINVAL;
	*ok = 0;
	size_t tn = strlen(trusted), cn = strlen(claimed);
	/* The street: the trusted path with its last part taken off. */
	if (!cn || cn >= tn || trusted[cn] != '/' ||
	    memcmp(trusted, claimed, cn) != 0 ||
	    memchr(trusted + cn + 1, '/', tn - cn - 1))
		return WH_OK;
	size_t n = 0;
	int rc = wh_store_emergency_active(s, claimed, now_ms, WH_EM_COVERS,
					   NULL, NULL, &n);
	*ok = rc == WH_OK && n > 0;
	return rc;
}
