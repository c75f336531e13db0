/* Fault points of the test build only (make B=build/test CGP_TESTING=1): the
 * real-kernel tests cannot link a hook, so the test binary takes them from
 * the environment. The release build compiles this file to nothing. */
#include "cgctl-int.h"

#ifdef CGP_TESTING
#include <errno.h>
#include <signal.h>

static unsigned env_seq(const char *name)
{
    const char *s = getenv(name);
    uint64_t k;
    return s && *s && cgp_parse_u64(s, &k) == 0 && k > 0 && k < UINT32_MAX ? (unsigned)k : 0;
}

int cgctl_test_fault(unsigned seq)
{
    if (seq == env_seq("CGPLACE_STOP_WRITE"))
        raise(SIGSTOP);     /* a test acts (kills a guest), then sends SIGCONT */
    return seq == env_seq("CGPLACE_FAULT_WRITE") ? -EIO : 0;
}
#else
typedef int cgctl_testing_unused; /* ISO C wants a declaration in every file */
#endif
