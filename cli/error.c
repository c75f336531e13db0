/* cli_error: the one format of every command's error line. Its own file so
 * that tests can link it without main(). */
#include "cli.h"

#include <stdarg.h>

int cli_error(int code, const char *what, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "cgplace: %s: ", what);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}
