// Internal to the spawn shim: the includes, raw system calls and helpers its files share.
// Between clone and exec only raw system calls are used (no malloc, no errno, no locks).
#ifndef RFT_CSPAWN_INTERNAL_H
#define RFT_CSPAWN_INTERNAL_H
#include "cspawn.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <time.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

// ---------------------------------------------------------------------------------------------
// Raw system calls: return -errno, never touch the (shared) thread's errno.
// ---------------------------------------------------------------------------------------------
#if defined(__x86_64__)
static inline long rs6(long n, long a, long b, long c, long d, long e, long f) {
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#elif defined(__aarch64__)
static inline long rs6(long n, long a, long b, long c, long d, long e, long f) {
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
    return x0;
}
#else
#error "rft's spawn shim supports x86_64 and aarch64"
#endif
#define RS0(n) rs6((n), 0, 0, 0, 0, 0, 0)
#define RS1(n, a) rs6((n), (long)(a), 0, 0, 0, 0, 0)
#define RS2(n, a, b) rs6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define RS3(n, a, b, c) rs6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define RS4(n, a, b, c, d) rs6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define RS5(n, a, b, c, d, e) rs6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

struct k_sigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    uint64_t mask;
};

static inline size_t c_strlen(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

static inline __attribute__((noreturn)) void c_exit(int code) {
    for (;;) RS1(SYS_exit_group, code);
}

static inline void send_msg(int fd, const struct rft_msg *m) {
    long r;
    do { r = RS3(SYS_write, fd, m, sizeof *m); } while (r == -EINTR);
}

static inline void send_fail(int fd, int stage, int detail, long err) {
    struct rft_msg m;
    for (size_t i = 0; i < sizeof m; i++) ((char *)&m)[i] = 0;
    m.kind = RFT_MSG_FAIL;
    m.stage = stage;
    m.detail = detail;
    m.err = (int32_t)(err < 0 ? -err : err);
    send_msg(fd, &m);
}

static inline long write_file(const char *path, const char *data) {
    long fd = RS4(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CLOEXEC, 0);
    if (fd < 0) return fd;
    long n = RS3(SYS_write, fd, data, c_strlen(data));
    RS1(SYS_close, fd);
    return n < 0 ? n : 0;
}

static inline long send_fd(int sock, const struct rft_msg *msg, int fd) {
    struct rft_msg m = *msg;
    struct iovec iov = {.iov_base = &m, .iov_len = sizeof m};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    for (size_t i = 0; i < sizeof u; i++) u.buf[i] = 0;
    struct msghdr mh;
    for (size_t i = 0; i < sizeof mh; i++) ((char *)&mh)[i] = 0;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof u.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    *(int *)CMSG_DATA(c) = fd;
    if (fd < 0) { mh.msg_control = 0; mh.msg_controllen = 0; }
    long r;
    do { r = RS3(SYS_sendmsg, sock, &mh, MSG_NOSIGNAL); } while (r == -EINTR);
    return r < 0 ? r : 0;
}


// Shared across the shim's files (spawn.c, namespaces.c, process.c).
__attribute__((visibility("hidden"))) long apply_fs_op(const struct rft_fs_op *op);
__attribute__((visibility("hidden"))) int killer_child(void *arg);
// Starts fn(arg) in a vfork-style helper (CLONE_VM | CLONE_VFORK | SIGCHLD | flags) on a mapped stack
// of stack_size bytes and waits for it (namespaces.c); used by every helper child outside clone-to-exec.
// HELPER_STACK_SIZE suits helpers that only make a few raw system calls.
#define HELPER_STACK_SIZE 16384
__attribute__((visibility("hidden"))) int run_helper(int (*fn)(void *), void *arg, unsigned long flags, size_t stack_size,
                                                     int *status);

#endif
