/* Kernel uevents as watch parses them (topology/uevent.c): CPU, memory
 * block and node hotplug are recognised, everything else is not hotplug;
 * hostile datagrams (no header, no NUL, a header that disagrees with
 * ACTION=, udev's messages, overlong fields) are refused or truncated,
 * never read past. */
#include "cgplace_watch.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MSG(s) s, sizeof(s) - 1

Test(uevent, cpu_online)
{
    struct cgp_uevent ev;
    cr_assert_eq(cgp_uevent_parse(MSG("online@/devices/system/cpu/cpu3\0ACTION=online\0"
                                      "DEVPATH=/devices/system/cpu/cpu3\0SUBSYSTEM=cpu\0SEQNUM=1234\0"), &ev), 0);
    cr_assert_eq(ev.subsys, CGP_UEVENT_CPU);
    cr_assert(ev.hotplug);
    cr_assert_str_eq(ev.action, "online");
    cr_assert_str_eq(ev.devpath, "/devices/system/cpu/cpu3");
}

Test(uevent, memory_and_node)
{
    struct cgp_uevent ev;
    cr_assert_eq(cgp_uevent_parse(MSG("offline@/devices/system/memory/memory32\0ACTION=offline\0"
                                      "SUBSYSTEM=memory\0"), &ev), 0);
    cr_assert_eq(ev.subsys, CGP_UEVENT_MEMORY);
    cr_assert(ev.hotplug);
    cr_assert_str_eq(ev.devpath, "/devices/system/memory/memory32", "from the header without DEVPATH=");
    cr_assert_eq(cgp_uevent_parse(MSG("add@/devices/system/node/node2\0ACTION=add\0SUBSYSTEM=node\0"), &ev), 0);
    cr_assert_eq(ev.subsys, CGP_UEVENT_NODE);
    cr_assert(ev.hotplug);
}

Test(uevent, not_hotplug)
{
    struct cgp_uevent ev;
    cr_assert_eq(cgp_uevent_parse(MSG("add@/devices/virtual/net/tap0\0ACTION=add\0SUBSYSTEM=net\0"), &ev), 0);
    cr_assert_eq(ev.subsys, CGP_UEVENT_OTHER);
    cr_assert_not(ev.hotplug);
    cr_assert_eq(cgp_uevent_parse(MSG("change@/devices/system/cpu/cpu1\0ACTION=change\0SUBSYSTEM=cpu\0"), &ev), 0);
    cr_assert_not(ev.hotplug, "a change is no hotplug");
    /* "cpufreq" is not "cpu": lengths compared, not prefixes */
    cr_assert_eq(cgp_uevent_parse(MSG("add@/x\0ACTION=add\0SUBSYSTEM=cpufreq\0"), &ev), 0);
    cr_assert_not(ev.hotplug);
}

Test(uevent, hostile)
{
    struct cgp_uevent ev;
    memset(&ev, 0x5a, sizeof ev);
    struct cgp_uevent before = ev;
    cr_assert_eq(cgp_uevent_parse(MSG("libudev\0\xfe\xed\xca\xfe"), &ev), -EINVAL, "udev's messages");
    cr_assert_eq(cgp_uevent_parse(MSG("online/devices/system/cpu/cpu3"), &ev), -EINVAL, "no NUL");
    cr_assert_eq(cgp_uevent_parse(MSG("online/devices\0ACTION=online\0"), &ev), -EINVAL, "no @");
    cr_assert_eq(cgp_uevent_parse(MSG("@/devices\0"), &ev), -EINVAL, "no action");
    cr_assert_eq(cgp_uevent_parse(MSG("online@\0"), &ev), -EINVAL, "no devpath");
    cr_assert_eq(cgp_uevent_parse(MSG("online@/d\0ACTION=offline\0SUBSYSTEM=cpu\0"), &ev), -EINVAL,
                 "the header and ACTION= disagree");
    cr_assert_eq(cgp_uevent_parse("x", 0, &ev), -EINVAL);
    cr_assert_eq(memcmp(&ev, &before, sizeof ev), 0, "*out untouched on error");
    /* overlong fields are cut, the last field need not end in NUL */
    char big[1200];
    size_t n = (size_t)snprintf(big, sizeof big, "online@/d");
    big[n++] = '\0';
    n += (size_t)snprintf(big + n, sizeof big - n, "DEVPATH=");
    memset(big + n, 'a', 600);
    n += 600;
    big[n++] = '\0';
    n += (size_t)snprintf(big + n, sizeof big - n, "SUBSYSTEM=cpu");   /* no NUL */
    cr_assert_eq(cgp_uevent_parse(big, n, &ev), 0);
    cr_assert_eq(strlen(ev.devpath), sizeof ev.devpath - 1);
    cr_assert_eq(ev.subsys, CGP_UEVENT_CPU);
    cr_assert(ev.hotplug);
}
