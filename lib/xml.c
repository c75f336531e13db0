/* libxml2 loaded on first use: see lib/xml.h for why it is not linked. */
#include "internal.h"
#include "xml.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

struct cgp_xml_api cgp_xml;
static int xml_status = -ELIBACC;
static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_load(void)
{
    void *h = dlopen("libxml2.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return;
#define CGP_XML_SYM(f) if (!(*(void **)&cgp_xml.f = dlsym(h, #f))) return;
    CGP_XML_FUNCS(CGP_XML_SYM)
#undef CGP_XML_SYM
    xml_status = 0;
}

int cgp_xml_load(void)
{
    pthread_once(&xml_once, xml_load);
    return xml_status;
}

int cgp_xml_write(int (*body)(xmlTextWriterPtr w, const void *arg), const void *arg, char **out)
{
    int r = cgp_xml_load();
    if (r < 0)
        return r;
    xmlBufferPtr buf = cgp_xml.xmlBufferCreate();
    if (!buf)
        return -ENOMEM;
    xmlTextWriterPtr w = cgp_xml.xmlNewTextWriterMemory(buf, 0);
    if (!w) {
        cgp_xml.xmlBufferFree(buf);
        return -ENOMEM;
    }
    if (cgp_xml.xmlTextWriterSetIndent(w, 1) < 0 || cgp_xml.xmlTextWriterSetIndentString(w, BAD_CAST "  ") < 0 ||
        cgp_xml.xmlTextWriterSetQuoteChar(w, (xmlChar)'\'') < 0)
        r = -EIO;
    if (r == 0)
        r = body(w, arg);
    if (r == 0 && cgp_xml.xmlTextWriterFlush(w) < 0)
        r = -EIO;
    cgp_xml.xmlFreeTextWriter(w);
    char *s = r < 0 ? NULL : strdup((const char *)cgp_xml.xmlBufferContent(buf));
    cgp_xml.xmlBufferFree(buf);
    if (r < 0)
        return r;
    if (!s)
        return -ENOMEM;
    *out = s;
    return 0;
}
