/* libxml2, loaded on first use (lib/xml.c). Internal, not installed.
 *
 * Not linked: libxml2 pulls in ICU and libstdc++, whose loading and
 * relocation cost every cgplace command about 3 ms of start-up although
 * only capabilities, emit and import-libvirt use it. The headers still type
 * every entry point; callers reach them as cgp_xml.NAME after cgp_xml_load(). */
#ifndef CGP_XML_H
#define CGP_XML_H

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>

#define CGP_XML_FUNCS(F) F(xmlBufferContent) F(xmlBufferCreate) F(xmlBufferFree) F(xmlFreeTextWriter) \
    F(xmlNewTextWriterMemory) F(xmlTextWriterEndElement) F(xmlTextWriterFlush) F(xmlTextWriterSetIndent) \
    F(xmlTextWriterSetIndentString) F(xmlTextWriterSetQuoteChar) F(xmlTextWriterStartElement) \
    F(xmlTextWriterWriteAttribute) F(xmlTextWriterWriteElement) F(xmlTextWriterWriteFormatAttribute) \
    F(xmlTextWriterWriteFormatString) F(xmlTextWriterWriteFormatComment) \
    F(xmlNewParserCtxt) F(xmlFreeParserCtxt) F(xmlCtxtReadMemory) F(xmlFreeDoc) F(xmlDocGetRootElement) \
    F(xmlStopParser) F(xmlGetLineNo)

struct cgp_xml_api {
#define CGP_XML_DECL(f) __typeof__(f) *f;
    CGP_XML_FUNCS(CGP_XML_DECL)
#undef CGP_XML_DECL
};
extern struct cgp_xml_api cgp_xml;

/* Load libxml2 once (thread-safe): 0, or -ELIBACC when libxml2.so.2 or one
 * of its entry points is missing (the library is never closed: libxml2
 * keeps global state). */
int cgp_xml_load(void);

/* Run body(w, arg) on a new in-memory writer (two-space indent, '
 * quotes), then flush: 0 and *out (malloc'd, what body wrote); body's
 * negative return; -EIO when the writer failed; -ELIBACC; -ENOMEM. */
int cgp_xml_write(int (*body)(xmlTextWriterPtr w, const void *arg), const void *arg, char **out);

#endif
