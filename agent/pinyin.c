/*
 * pinyin.c: the default station code from a jurisdiction path.
 *
 * Path components are toneless pinyin run together ("zhaodengyu"), and
 * people already abbreviate places by syllable initials (赵登禹 -> ZDY).
 * Splitting toneless pinyin exactly needs a dictionary; this heuristic
 * gets the common shapes right and `init --code` covers the rest:
 *
 *   - a consonant that follows the vowel part of a syllable starts a new
 *     syllable,
 *   - except 'n' followed by a consonant or the end (a coda: xin|jie), and
 *     'ng' followed by a consonant or the end (deng|yu);
 *   - zh, ch, sh are one initial (the 'h' never follows a vowel there);
 *   - a digit run counts as one "syllable" and keeps its first digit;
 *     '-' and '_' separate words.
 *
 * zhaodengyu -> ZDY, xinjiekou -> XJK, sanjianfang -> SJF.
 */
#include "cli.h"

#include <string.h>

static int is_vowel(char ch)
{
	return ch == 'a' || ch == 'e' || ch == 'i' || ch == 'o' || ch == 'u' ||
	       ch == 'v';
}

static int is_letter(char ch)
{
	return ch >= 'a' && ch <= 'z';
}

/* A consonant here: a letter that is not a vowel. End and non-letters
 * count as "consonant or end" for the coda rule. */
static int cons_or_end(char ch)
{
	return !is_letter(ch) || !is_vowel(ch);
}

/* Append the initials of one component (s[0..n)) to out, at most cap. */
static size_t initials(const char *s, size_t n, char *out, size_t cap)
{
	size_t k = 0;
	int in_final = 0; /* seen the vowel of the current syllable */
	int in_digits = 0;
	for (size_t i = 0; i < n && k < cap; i++) {
		char ch = s[i], next = i + 1 < n ? s[i + 1] : '\0';
		char after = i + 2 < n ? s[i + 2] : '\0';
		if (ch >= '0' && ch <= '9') {
			if (!in_digits)
				out[k++] = ch;
			in_digits = 1;
			in_final = 0;
			continue;
		}
		int word_start = in_digits || i == 0 || !is_letter(s[i - 1]);
		in_digits = 0;
		if (!is_letter(ch)) {
			in_final = 0;
			continue;
		}
		if (word_start) {
			out[k++] = (char)(ch - 'a' + 'A');
			in_final = is_vowel(ch);
			continue;
		}
		if (is_vowel(ch)) {
			in_final = 1;
			continue;
		}
		if (!in_final)
			continue; /* second letter of zh/ch/sh */
		if (ch == 'n' && next == 'g' && cons_or_end(after)) {
			i++; /* "ng" coda; in_final stays, so the next
			      * consonant opens a syllable */
			continue;
		}
		if (ch == 'n' && next != 'g' && cons_or_end(next))
			continue; /* "n" coda; stays in_final */
		if (ch == 'n' && next == 'g') {
			/* "n" coda and "g" opens the next syllable (xin|ge) */
			continue;
		}
		if (ch == 'r' && cons_or_end(next) && s[i - 1] == 'e')
			continue; /* "er" */
		out[k++] = (char)(ch - 'a' + 'A');
		in_final = 0;
	}
	return k;
}

int pinyin_code(const char *path, char out[WH_CODE_MAX + 1])
{
	const char *parts[WH_PATH_MAX_PARTS];
	size_t lens[WH_PATH_MAX_PARTS], np = 0;
	for (const char *p = path; *p && np < WH_PATH_MAX_PARTS;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		parts[np] = p;
		lens[np++] = n;
		p += n + (slash ? 1 : 0);
	}
	if (np == 0)
		return WH_EID;
	size_t k = 0;
	/* Street initials (at most 7) + "-" + community initials fit in
	 * WH_CODE_MAX (16). */
	if (np >= 2) {
		k = initials(parts[np - 2], lens[np - 2], out, 7);
		out[k++] = '-';
	}
	k += initials(parts[np - 1], lens[np - 1], out + k, 8);
	out[k] = '\0';
	return wh_code_valid(out, k) ? WH_OK : WH_EID;
}
