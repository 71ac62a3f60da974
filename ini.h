/*
 * ini.h - reads setting.ini files: the seed pool's format, read the way
 * Python's configparser reads the files people already have:
 *
 *   # comment            ; comment too (only at the start of a line)
 *   [bitcoin.conf]       section names may contain dots, spaces, digits
 *   rpcuser = alice      "name = value" or "name: value"; white space around
 *                        name and value is dropped; a value may be empty
 *
 * Names are passed on as written (callers compare them case-insensitively,
 * as configparser does).  Lines end in LF or CRLF; a leading UTF-8 byte
 * order mark is skipped.  No continuation lines or inline comments:
 * "port = 8332 ; x" has the value "8332 ; x", a bad number to the caller.
 *
 * Errors name the file and line ("setting.ini:7: line too long") and stop
 * parsing: lines, names and values over their limits (never truncated), a
 * key before the first "[section]", a line that is no comment, header or
 * "name = value", an empty name or section name, text after "]", a NUL
 * byte.  Duplicates are the handler's to judge.  Leaf module.
 */
#ifndef INI_H
#define INI_H

#include <stddef.h>

#ifndef INI_MAX_LINE
#define INI_MAX_LINE 1024	/* bytes in a line, without LF or CRLF */
#endif
#ifndef INI_MAX_SECTION
#define INI_MAX_SECTION 64	/* bytes in a section name */
#endif
#ifndef INI_MAX_NAME
#define INI_MAX_NAME 64		/* bytes in a key name */
#endif
#ifndef INI_MAX_VALUE
#define INI_MAX_VALUE 512	/* bytes in a value */
#endif

/*
 * Called once per "name = value" line, in file order, with the current
 * section's name (never "").  Return 0 to go on; anything else makes
 * ini_parse*() fail with "file:line: " and the message the handler wrote
 * into err (errlen, 256, bytes), or "rejected by handler" if none.
 */
typedef int ini_handler(void *user, const char *section, const char *name,
    const char *value, int lineno, char *err, size_t errlen);

/*
 * Parse the file at path.  Returns 0, or -1 with "path:line: reason" (or
 * "path: strerror") in err (errlen bytes, always NUL-terminated).
 */
int ini_parse_file(const char *path, ini_handler *fn, void *user,
    char *err, size_t errlen);

/* The same for text already in memory; name is used in messages. */
int ini_parse_string(const char *name, const char *text, size_t len,
    ini_handler *fn, void *user, char *err, size_t errlen);

#endif
