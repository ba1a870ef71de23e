/*
 * fuzz_import.h: what fuzz_csv and fuzz_jsonl share: a station and a
 * store to decide rows against, as `whistle case import --dry-run`
 * does, so a row goes all the way from bytes to the drafts it would
 * author (probed with a key, never stored).
 *
 * The store lives in a temporary directory made at start-up and
 * removed at exit; it holds the case of fuzz_gen.c (FZ-000001, with
 * external_ref 12345-2026-000123), a second case with that reference
 * and a third with T-1, so rows naming them take the update path (or
 * are refused as ambiguous) and the rest the create path.
 */
#ifndef WH_FUZZ_IMPORT_H
#define WH_FUZZ_IMPORT_H

#include "import.h"

/* The station rows are decided for (conf and store set). */
extern struct cli fuzz_imp_cli;

/* Crypto, the store and its case. 0 or -1 (LLVMFuzzerInitialize). */
int fuzz_imp_init(void);

/* Check one row and decide it against the store (never written). */
void fuzz_imp_row(struct imp_plan *p, const struct imp_row *r);

#endif
