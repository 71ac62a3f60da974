/*
 * ini.h - reads setting.ini files.
 *
 * The format is the seed pool's, read the way Python's configparser reads
 * the files people already have:
 *
 *   # comment            ; comment too (only at the start of a line)
 *   [bitcoin.conf]       section names may contain dots, spaces, digits
 *   rpcuser = alice      "name = value" or "name: value"; white space around
 *                        name and value is dropped; a value may be empty
 *
 * Names and section names are passed on as written (callers compare them
 * case-insensitively, as configparser does for keys).  Lines may end in LF
 * or CRLF; a UTF-8 byte order mark at the start is skipped.  Continuation
 * lines and inline comments are not supported: "port = 8332 ; x" has the
 * value "8332 ; x", which the caller will reject as a bad number.
 *
 * Errors name the file and line: "setting.ini:7: line too long".  Lines,
 * names and values over their limits are errors, never truncated.  So are
 * a key before the first "[section]" (configparser refuses it too), a line
 * that is neither a comment, a header nor "name = value", an empty name or
 * section name, text after "]", and a NUL byte.  Parsing stops at the first
 * error.  Duplicate keys or sections are the handler's to judge.
 * Leaf module: includes nothing of ours.
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
 * section's name (never "").  Return 0 to go on; any other value stops
 * parsing and makes ini_parse*() fail with the message the handler wrote
 * into err (errlen bytes, 256 of them), prefixed by "file:line: ", or
 * with "rejected by handler" if it wrote nothing.
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
