/* Kernel uevents for `watch`: CPU, memory-block and node hotplug
 * (NETLINK_KOBJECT_UEVENT). The datagram comes from the kernel, but the
 * parser takes it as untrusted bytes (it is fuzzed): lengths bounded, every
 * field copied truncated, nothing assumed NUL-terminated. */
#include "internal.h"
#include "cgplace_watch.h"

#include <errno.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int cgp_uevent_open(int *fd)
{
    if (!fd)
        return -EINVAL;
    int s = cgp_netlink_open(NETLINK_KOBJECT_UEVENT, 1);   /* group 1: the kernel's, not udev's */
    if (s < 0)
        return s;
    *fd = s;
    return 0;
}

static void copy_field(char *dst, size_t size, const char *src, size_t len)
{
    size_t n = len < size - 1 ? len : size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static enum cgp_uevent_subsys subsys_of(const char *v, size_t n)
{
    if (n == 3 && !memcmp(v, "cpu", 3))
        return CGP_UEVENT_CPU;
    if (n == 6 && !memcmp(v, "memory", 6))
        return CGP_UEVENT_MEMORY;
    if (n == 4 && !memcmp(v, "node", 4))
        return CGP_UEVENT_NODE;
    return CGP_UEVENT_OTHER;
}

static bool is_hotplug_action(const char *a)
{
    return !strcmp(a, "online") || !strcmp(a, "offline") || !strcmp(a, "add") || !strcmp(a, "remove");
}

int cgp_uevent_parse(const void *buf, size_t len, struct cgp_uevent *out)
{
    if (!buf || !out || len == 0)
        return -EINVAL;
    const char *p = buf, *end = p + len;
    /* the header "ACTION@DEVPATH", NUL-terminated within the datagram */
    const char *h_end = memchr(p, '\0', len);
    if (!h_end)
        return -EINVAL;
    const char *at = memchr(p, '@', (size_t)(h_end - p));
    if (!at || at == p || at + 1 == h_end)
        return -EINVAL;   /* also udev's "libudev\0" messages */
    struct cgp_uevent ev = { .subsys = CGP_UEVENT_OTHER };
    bool have_action = false;
    for (const char *f = h_end + 1; f < end;) {
        const char *z = memchr(f, '\0', (size_t)(end - f));
        size_t n = z ? (size_t)(z - f) : (size_t)(end - f);
        const char *eq = memchr(f, '=', n);
        if (eq) {
            size_t kl = (size_t)(eq - f), vl = n - kl - 1;
            const char *v = eq + 1;
            if (kl == 6 && !memcmp(f, "ACTION", 6)) {
                copy_field(ev.action, sizeof ev.action, v, vl);
                have_action = true;
                /* the header and ACTION= must agree */
                if (vl != (size_t)(at - p) || memcmp(v, p, vl))
                    return -EINVAL;
            } else if (kl == 7 && !memcmp(f, "DEVPATH", 7)) {
                copy_field(ev.devpath, sizeof ev.devpath, v, vl);
            } else if (kl == 9 && !memcmp(f, "SUBSYSTEM", 9)) {
                ev.subsys = subsys_of(v, vl);
            }
        }
        if (!z)
            break;
        f = z + 1;
    }
    if (!have_action)
        copy_field(ev.action, sizeof ev.action, p, (size_t)(at - p));
    if (!ev.devpath[0])
        copy_field(ev.devpath, sizeof ev.devpath, at + 1, (size_t)(h_end - at - 1));
    ev.hotplug = ev.subsys != CGP_UEVENT_OTHER && is_hotplug_action(ev.action);
    *out = ev;
    return 0;
}

int cgp_uevent_read(int fd, struct cgp_uevent *out)
{
    char buf[8192];
    struct sockaddr_nl from;
    socklen_t fl = sizeof from;
    ssize_t r = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    if (r < 0)
        return -errno;
    if (fl != sizeof from || from.nl_pid != 0)    /* only the kernel's own */
        return -EINVAL;
    return cgp_uevent_parse(buf, (size_t)r, out);
}
