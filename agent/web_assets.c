/*
 * web_assets.c: the console's pages (agent/web/), embedded in the
 * binary so that the console works with no network and no files
 * beside the binary.
 *
 * The bytes go in with the assembler's .incbin: the files are the
 * source, nothing is converted or generated, and a changed file is
 * rebuilt because agent/CMakeLists.txt lists them as this object's
 * dependencies (OBJECT_DEPENDS). WEB_ASSET_DIR is their directory,
 * given by CMake. Each file is followed by a NUL that is not counted,
 * so a file is never read past its end by mistake.
 */
#include "web_int.h"

#include <string.h>

#ifndef WEB_ASSET_DIR
#error "WEB_ASSET_DIR must name agent/web (agent/CMakeLists.txt sets it)"
#endif

#define ASSET(sym, file)                                                       \
	__asm__(".section .rodata\n"                                           \
		".balign 16\n"                                                 \
		".type " #sym "_start, @object\n" #sym "_start:\n"             \
		".incbin \"" WEB_ASSET_DIR "/" file "\"\n" #sym "_end:\n"      \
		".byte 0\n"                                                    \
		".previous\n");                                                \
	extern const unsigned char sym##_start[], sym##_end[]

ASSET(wa_index, "index.html");
ASSET(wa_app, "app.js");
ASSET(wa_i18n, "i18n.js");
ASSET(wa_style, "style.css");

#define ENTRY(path, ctype, sym)                                                \
	{                                                                      \
		path, ctype, sym##_start, 0                                    \
	}

const struct web_asset *web_asset_find(const char *path)
{
	static struct web_asset assets[] = {
	    ENTRY("/", "text/html; charset=utf-8", wa_index),
	    ENTRY("/index.html", "text/html; charset=utf-8", wa_index),
	    ENTRY("/app.js", "text/javascript; charset=utf-8", wa_app),
	    ENTRY("/i18n.js", "text/javascript; charset=utf-8", wa_i18n),
	    ENTRY("/style.css", "text/css; charset=utf-8", wa_style),
	};
	static const unsigned char *ends[] = {
	    wa_index_end, wa_index_end, wa_app_end, wa_i18n_end, wa_style_end};
	for (size_t i = 0; i < sizeof assets / sizeof assets[0]; i++) {
		if (strcmp(assets[i].path, path))
			continue;
		assets[i].size = (size_t)(ends[i] - assets[i].data);
		return &assets[i];
	}
	return NULL;
}
