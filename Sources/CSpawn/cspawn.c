// rft spawn shim. See include/cspawn.h for the process shape.
// Between clone and exec only raw system calls are used (no malloc, no errno, no locks).
#define _GNU_SOURCE
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

static size_t c_strlen(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

static __attribute__((noreturn)) void c_exit(int code) {
    for (;;) RS1(SYS_exit_group, code);
}

static void send_msg(int fd, const struct rft_msg *m) {
    long r;
    do { r = RS3(SYS_write, fd, m, sizeof *m); } while (r == -EINTR);
}

static void send_fail(int fd, int stage, int detail, long err) {
    struct rft_msg m;
    for (size_t i = 0; i < sizeof m; i++) ((char *)&m)[i] = 0;
    m.kind = RFT_MSG_FAIL;
    m.stage = stage;
    m.detail = detail;
    m.err = (int32_t)(err < 0 ? -err : err);
    send_msg(fd, &m);
}

static long write_file(const char *path, const char *data) {
    long fd = RS4(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CLOEXEC, 0);
    if (fd < 0) return fd;
    long n = RS3(SYS_write, fd, data, c_strlen(data));
    RS1(SYS_close, fd);
    return n < 0 ? n : 0;
}

static long send_fd(int sock, const struct rft_msg *msg, int fd) {
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

// ---------------------------------------------------------------------------------------------
// B: the target. Runs in A's namespaces, shares memory with A (vfork) until exec.
// ---------------------------------------------------------------------------------------------
struct b_args {
    const struct rft_spawn_config *cfg;
};

static int child_b(void *arg) {
    const struct b_args *ba = arg;
    const struct rft_spawn_config *cfg = ba->cfg;
    int ctl = cfg->control_fd;
    long r;

    // 1. cgroups (while still privileged).
    for (int i = 0; i < cfg->n_cgroup_fds; i++) {
        r = RS3(SYS_write, cfg->cgroup_fds[i], "0", 1);
        if (r < 0) { send_fail(ctl, RFT_STAGE_CGROUP, i, r); c_exit(127); }
    }

    // 2. fds: the target gets fds[0..n-1]; the control socket and the exec pipe move to n and n+1
    //    (close-on-exec: the pipe's EOF tells P that exec happened); every other descriptor is
    //    closed now, so that RLIMIT_NOFILE and the seccomp listener see a small table.
    int n = cfg->n_fds;
    int lsock = cfg->exec_fd;
    int moved[16];
    if (n > 16) { send_fail(ctl, RFT_STAGE_FDS, n, EINVAL); c_exit(127); }
    r = RS3(SYS_fcntl, ctl, F_DUPFD_CLOEXEC, n + 2);
    if (r < 0) { send_fail(ctl, RFT_STAGE_FDS, -1, r); c_exit(127); }
    ctl = (int)r;
    if (lsock >= 0) {
        r = RS3(SYS_fcntl, lsock, F_DUPFD_CLOEXEC, n + 2);
        if (r < 0) { send_fail(ctl, RFT_STAGE_FDS, -1, r); c_exit(127); }
        lsock = (int)r;
    }
    for (int i = 0; i < n; i++) {
        moved[i] = -1;
        if (cfg->fds[i] < 0) continue;
        r = RS3(SYS_fcntl, cfg->fds[i], F_DUPFD_CLOEXEC, n + 2);
        if (r < 0) { send_fail(ctl, RFT_STAGE_FDS, i, r); c_exit(127); }
        moved[i] = (int)r;
    }
    for (int i = 0; i < n; i++) {
        if (moved[i] < 0) { RS1(SYS_close, i); continue; }
        r = RS3(SYS_dup3, moved[i], i, 0);
        if (r < 0) { send_fail(ctl, RFT_STAGE_FDS, i, r); c_exit(127); }
    }
    r = RS3(SYS_dup3, ctl, n, O_CLOEXEC);
    if (r < 0) { send_fail(ctl, RFT_STAGE_FDS, -3, r); c_exit(127); }
    ctl = n;
    if (lsock >= 0) {
        r = RS3(SYS_dup3, lsock, n + 1, O_CLOEXEC);
        if (r < 0) { send_fail(ctl, RFT_STAGE_FDS, -4, r); c_exit(127); }
        lsock = n + 1;
    }
    r = RS3(SYS_close_range, (unsigned)(n + 2), ~0U, 0);
    if (r < 0) { send_fail(ctl, RFT_STAGE_FDS, -2, r); c_exit(127); }

    // 3. rlimits.
    for (int i = 0; i < cfg->n_rlimits; i++) {
        struct rlimit lim = {.rlim_cur = cfg->rlimits[i].soft, .rlim_max = cfg->rlimits[i].hard};
        r = RS4(SYS_prlimit64, 0, cfg->rlimits[i].resource, &lim, 0);
        if (r < 0) { send_fail(ctl, RFT_STAGE_RLIMIT, cfg->rlimits[i].resource, r); c_exit(127); }
    }

    // 4. identity.
    if (cfg->drop_ids) {
        r = RS2(SYS_setgroups, 0, 0);
        if (r < 0) { send_fail(ctl, RFT_STAGE_SETGROUPS, 0, r); c_exit(127); }
        r = RS3(SYS_setresgid, cfg->gid, cfg->gid, cfg->gid);
        if (r < 0) { send_fail(ctl, RFT_STAGE_SETGID, 0, r); c_exit(127); }
        r = RS3(SYS_setresuid, cfg->uid, cfg->uid, cfg->uid);
        if (r < 0) { send_fail(ctl, RFT_STAGE_SETUID, 0, r); c_exit(127); }
    }

    // 5. working directory.
    if (cfg->workdir) {
        r = RS1(SYS_chdir, cfg->workdir);
        if (r < 0) { send_fail(ctl, RFT_STAGE_CHDIR, 0, r); c_exit(127); }
    }

    // 6. no_new_privs, signal mask, seccomp (last: it may forbid what came before).
    if (cfg->no_new_privs) {
        r = RS5(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        if (r < 0) { send_fail(ctl, RFT_STAGE_NO_NEW_PRIVS, 0, r); c_exit(127); }
    }
    uint64_t empty = 0;
    RS4(SYS_rt_sigprocmask, SIG_SETMASK, &empty, 0, 8);
    if (cfg->filter) {
        struct sock_fprog prog = {.len = cfg->filter_len, .filter = (struct sock_filter *)cfg->filter};
        r = RS3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, cfg->filter_flags, &prog);
        if (r < 0) { send_fail(ctl, RFT_STAGE_SECCOMP, 0, r); c_exit(127); }
        if (cfg->filter_flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
            int listener = (int)r;
            struct rft_msg lm;
            for (size_t i = 0; i < sizeof lm; i++) ((char *)&lm)[i] = 0;
            lm.kind = RFT_MSG_LISTENER;
            r = send_fd(ctl, &lm, listener);
            if (r < 0) { send_fail(ctl, RFT_STAGE_LISTENER, 0, r); c_exit(127); }
            RS1(SYS_close, listener);
        }
    }

    // 7. exec: the caller's candidate paths in order, like execvp.
    long err = -ENOENT;
    for (int i = 0; i < cfg->n_exec_paths; i++) {
        r = RS3(SYS_execve, cfg->exec_paths[i], cfg->argv, cfg->envp);
        if (r == -ENOENT || r == -ENOTDIR) continue;
        err = r;
        if (r != -EACCES) break;
    }
    send_fail(ctl, RFT_STAGE_EXEC, 0, err);
    c_exit(127);
}

// ---------------------------------------------------------------------------------------------
// A: namespace setup, then init of the sandbox (reaps everything, reports B's exit, exits).
// ---------------------------------------------------------------------------------------------
static long apply_fs_op(const struct rft_fs_op *op) {
    long r = 0;
    switch (op->kind) {
    case RFT_FS_MKDIR:
        r = RS3(SYS_mkdirat, AT_FDCWD, op->dst, op->mode);
        if (r == -EEXIST) r = 0;
        break;
    case RFT_FS_SYMLINK:
        r = RS3(SYS_symlinkat, op->src, AT_FDCWD, op->dst);
        break;
    case RFT_FS_BIND:
        r = RS5(SYS_mount, op->src, op->dst, 0, MS_BIND | MS_REC, 0);
        if (r == -ENOENT && (op->op_flags & RFT_FS_OPTIONAL)) return 0;
        if (r == 0 && (op->op_flags & RFT_FS_RDONLY))
            r = RS5(SYS_mount, 0, op->dst, 0, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | op->mount_flags, 0);
        break;
    case RFT_FS_MOUNT:
        r = RS5(SYS_mount, op->src, op->dst, op->src, op->mount_flags, op->data);
        break;
    case RFT_FS_TOUCH:
        r = RS4(SYS_openat, AT_FDCWD, op->dst, O_CREAT | O_WRONLY | O_CLOEXEC, op->mode);
        if (r >= 0) { RS1(SYS_close, r); r = 0; }
        break;
    case RFT_FS_REMOUNT_RO:
        r = RS5(SYS_mount, 0, op->dst, 0, MS_BIND | MS_REMOUNT | MS_RDONLY | op->mount_flags, 0);
        break;
    case RFT_FS_CHMOD:
        r = RS4(SYS_fchmodat, AT_FDCWD, op->dst, op->mode, 0);
        break;
    default:
        r = -EINVAL;
    }
    return r;
}

// ---------------------------------------------------------------------------------------------
// Killing every process of a uid (no-namespace mode, where no PID namespace ends them).
// ---------------------------------------------------------------------------------------------

// Reaps A's exited children without blocking. B's status (with rusage) goes into *m; the status
// of `helper` (another child A waits for) into *helper_status. Returns -ECHILD once A has no
// child left, else 0.
static long reap_children(int b, struct rft_msg *m, int *b_done, int helper, int *helper_status) {
    for (;;) {
        int st = 0;
        struct rusage ru;
        long w = RS4(SYS_wait4, -1, &st, WNOHANG | __WALL, &ru);
        if (w <= 0) return w == -ECHILD ? -ECHILD : 0;
        if (w == b && !*b_done) {
            *b_done = 1;
            m->kind = RFT_MSG_EXIT;
            m->status = st;
            m->utime_us = (int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec;
            m->stime_us = (int64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
            m->maxrss_kb = ru.ru_maxrss;
        } else if (w == helper && helper_status) {
            *helper_status = st;
        }
    }
}

// The helper: becomes the uid (its own credentials only: a raw syscall in a separate process), so
// kill(-1) reaches exactly that uid's processes and never root's. (kill(-1) reports success as
// long as any other process exists, so it cannot tell when the uid is done: A's reaping does.)
static int killer_child(void *arg) {
    uint32_t uid = *(const uint32_t *)arg;
    if (RS3(SYS_setresuid, uid, uid, uid) < 0) c_exit(2);
    long r = RS2(SYS_kill, -1, SIGKILL);
    c_exit(r < 0 && r != -ESRCH ? 1 : 0);
}

// One round: a vfork-style helper runs killer_child on `stack`. Returns its wait status, or -1.
static int kill_round(uint32_t uid, char *stack, size_t size, int *pid_out) {
    char *top = (char *)((uintptr_t)(stack + size) & ~(uintptr_t)15);
    uint32_t u = uid;
    long k = clone(killer_child, top, CLONE_VM | CLONE_VFORK | SIGCHLD, &u);
    *pid_out = (int)k;
    if (k < 0) return -1;
    int st = 0;
    long w;
    do { w = RS4(SYS_wait4, k, &st, __WALL, 0); } while (w == -EINTR);
    return w == k ? st : -1;
}

// A (root, a subreaper) kills every process of uid and reaps until it has no child left, for at
// most about 5 s. Every process of the run descends from A (orphans are reparented to it, and
// CLONE_PARENT only makes siblings), so an empty child list means the uid's processes are gone.
// The sandbox's code, running as uid, may kill a helper before it acts: the next round retries.
static void kill_uid_all(uint32_t uid, int b, struct rft_msg *m, int *b_done) {
    char stack[8192] __attribute__((aligned(16)));
    struct timespec ms = {.tv_sec = 0, .tv_nsec = 1000000};
    for (int i = 0; i < 5000; i++) {
        int pid = -1;
        kill_round(uid, stack, sizeof stack, &pid);
        if (reap_children(b, m, b_done, pid, 0) == -ECHILD) return;
        RS2(SYS_nanosleep, &ms, 0);
        if (reap_children(b, m, b_done, pid, 0) == -ECHILD) return;
    }
}

static int child_a(void *arg) {
    const struct rft_spawn_config *cfg = arg;
    int ctl = cfg->control_fd;
    long r;

    // Default dispositions for every signal (handlers point into P's code); all stay blocked in A.
    struct k_sigaction dfl = {0};
    for (int s = 1; s <= 64; s++) {
        if (s == SIGKILL || s == SIGSTOP) continue;
        RS4(SYS_rt_sigaction, s, &dfl, 0, 8);
    }

    if (cfg->userns) {
        r = write_file("/proc/self/setgroups", "deny");
        if (r < 0 && r != -ENOENT) { send_fail(ctl, RFT_STAGE_USERNS_SETGROUPS, 0, r); c_exit(1); }
        r = write_file("/proc/self/uid_map", cfg->uid_map);
        if (r < 0) { send_fail(ctl, RFT_STAGE_USERNS_UIDMAP, 0, r); c_exit(1); }
        r = write_file("/proc/self/gid_map", cfg->gid_map);
        if (r < 0) { send_fail(ctl, RFT_STAGE_USERNS_GIDMAP, 0, r); c_exit(1); }
    }
    if (cfg->netns_fd >= 0) {
        r = RS2(SYS_setns, cfg->netns_fd, CLONE_NEWNET);
        if (r < 0) { send_fail(ctl, RFT_STAGE_SETNS_NET, 0, r); c_exit(1); }
    }
    if (cfg->hostname) {
        r = RS2(SYS_sethostname, cfg->hostname, c_strlen(cfg->hostname));
        if (r < 0) { send_fail(ctl, RFT_STAGE_HOSTNAME, 0, r); c_exit(1); }
    }
    if (cfg->mnt_template_fd >= 0) {
        r = RS2(SYS_setns, cfg->mnt_template_fd, CLONE_NEWNS);
        if (r == 0 && cfg->mnt_unshare) r = RS1(SYS_unshare, CLONE_NEWNS);
        if (r < 0) { send_fail(ctl, RFT_STAGE_MOUNT_PRIVATE, 1, r); c_exit(1); }
        for (int i = 0; i < cfg->n_fs_ops; i++) {
            r = apply_fs_op(&cfg->fs_ops[i]);
            if (r < 0) { send_fail(ctl, RFT_STAGE_FS_OP, i, r); c_exit(1); }
        }
        RS1(SYS_chdir, "/");
    } else if (cfg->new_root) {
        r = RS5(SYS_mount, 0, "/", 0, MS_REC | MS_PRIVATE, 0);
        if (r < 0) { send_fail(ctl, RFT_STAGE_MOUNT_PRIVATE, 0, r); c_exit(1); }
        for (int i = 0; i < cfg->n_fs_ops; i++) {
            r = apply_fs_op(&cfg->fs_ops[i]);
            if (r < 0) { send_fail(ctl, RFT_STAGE_FS_OP, i, r); c_exit(1); }
        }
        r = RS1(SYS_chdir, cfg->new_root);
        if (r == 0) r = RS2(SYS_pivot_root, ".", ".");
        if (r == 0) r = RS2(SYS_umount2, ".", MNT_DETACH);
        if (r == 0) r = RS1(SYS_chdir, "/");
        if (r < 0) { send_fail(ctl, RFT_STAGE_PIVOT_ROOT, 0, r); c_exit(1); }
    }

    // SIGCHLD through a signalfd (it stays blocked), so A can reap orphans and watch P. Without
    // namespaces A is no pid 1: it becomes a subreaper (orphans of B's tree come to it) and takes
    // SIGUSR1 as the parent's request to kill the sandbox.
    uint64_t mask = 1ULL << (SIGCHLD - 1);
    if (cfg->kill_uid_mode) {
        mask |= 1ULL << (SIGUSR1 - 1);
        r = RS5(SYS_prctl, PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        if (r < 0) { send_fail(ctl, RFT_STAGE_SIGNALFD, 1, r); c_exit(1); }
    }
    long sfd = RS4(SYS_signalfd4, -1, &mask, 8, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) { send_fail(ctl, RFT_STAGE_SIGNALFD, 0, sfd); c_exit(1); }

    // B runs concurrently (CLONE_VM without CLONE_VFORK: A is not woken again at B's exec). A only
    // touches its own stack from here on; P keeps the configuration alive until B's exec pipe closes.
    struct b_args ba = {.cfg = cfg};
    char *top = (char *)cfg->stack_b + cfg->stack_b_size;
    top = (char *)((uintptr_t)top & ~(uintptr_t)15);
    int b = clone(child_b, top, CLONE_VM | SIGCHLD, (void *)&ba);
    if (b < 0) { send_fail(ctl, RFT_STAGE_CLONE_CHILD, 0, EAGAIN); c_exit(1); }
    struct rft_msg m;
    for (size_t i = 0; i < sizeof m; i++) ((char *)&m)[i] = 0;
    int b_done = 0;
    uint32_t kill_uid = cfg->kill_uid;
    int kill_mode = cfg->kill_uid_mode;

    // A drops every fd except the control socket and the signalfd (B has its own table), so the
    // pipes of this and other spawns, and B's exec pipe, see EOF when their writers are gone.
    int lo = ctl < (int)sfd ? ctl : (int)sfd, hi = ctl < (int)sfd ? (int)sfd : ctl;
    if (lo > 0) RS3(SYS_close_range, 0, lo - 1, 0);
    if (hi > lo + 1) RS3(SYS_close_range, lo + 1, hi - 1, 0);
    RS3(SYS_close_range, hi + 1, ~0U, 0);

    for (;;) {
        struct pollfd pfd[2] = {{.fd = ctl, .events = POLLRDHUP}, {.fd = (int)sfd, .events = POLLIN}};
        r = RS5(SYS_ppoll, pfd, 2, 0, 0, 8);
        if (r < 0 && r != -EINTR) c_exit(2);
        if (pfd[0].revents & (POLLHUP | POLLRDHUP | POLLERR)) { // P is gone: end the sandbox
            if (kill_mode) kill_uid_all(kill_uid, b, &m, &b_done);
            c_exit(3);
        }
        struct signalfd_siginfo si;
        int kill_now = 0;
        while (RS3(SYS_read, sfd, &si, sizeof si) > 0) {
            if (si.ssi_signo == SIGUSR1) kill_now = 1;
        }
        if (kill_now && kill_mode) kill_uid_all(kill_uid, b, &m, &b_done);
        reap_children(b, &m, &b_done, -1, 0);
        if (b_done) {
            // Without a PID namespace, B's exit ends nothing else: kill the rest of the slot uid first.
            if (kill_mode) kill_uid_all(kill_uid, b, &m, &b_done);
            send_msg(ctl, &m);
            c_exit(0); // as pid 1 of a PID namespace, this SIGKILLs whatever B left behind
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parent side.
// ---------------------------------------------------------------------------------------------
int rft_spawn(const struct rft_spawn_config *cfg, pid_t *pid, int *pidfd) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    char *top = (char *)cfg->stack_a + cfg->stack_a_size;
    top = (char *)((uintptr_t)top & ~(uintptr_t)15);
    int pfd = -1;
    int flags = (int)(CLONE_VM | CLONE_PIDFD | cfg->clone_flags | SIGCHLD);
    int p = clone(child_a, top, flags, (void *)cfg, &pfd);
    int e = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (p < 0) return -e;
    *pid = p;
    *pidfd = pfd;
    return 0;
}

ssize_t rft_recv_msg(int fd, struct rft_msg *msg, int *fd_out) {
    *fd_out = -1;
    struct iovec iov = {.iov_base = msg, .iov_len = sizeof *msg};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr mh = {0};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof u.buf;
    ssize_t n;
    do { n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC); } while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) memcpy(fd_out, CMSG_DATA(c), sizeof(int));
    }
    return n;
}

int rft_wait_pidfd(int pidfd, int *status, int64_t *utime_us, int64_t *stime_us, int64_t *maxrss_kb, int nohang) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    long r;
    do {
        r = syscall(SYS_waitid, P_PIDFD, pidfd, &info, WEXITED | __WALL | (nohang ? WNOHANG : 0), &ru);
    } while (r < 0 && errno == EINTR);
    if (r < 0) return -errno;
    if (info.si_pid == 0) return -EAGAIN; // WNOHANG and still running
    if (info.si_code == CLD_EXITED) *status = (info.si_status & 0xff) << 8;
    else *status = info.si_status & 0x7f; // killed or dumped
    *utime_us = (int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec;
    *stime_us = (int64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
    *maxrss_kb = ru.ru_maxrss;
    return 0;
}

int rft_pidfd_kill(int pidfd, int sig) {
    long r = syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
    return r < 0 ? -errno : 0;
}

int rft_plain_spawn_wait(const char *path, char *const *argv, char *const *envp) {
    pid_t pid;
    int r = posix_spawn(&pid, path, NULL, NULL, argv, envp);
    if (r != 0) return -r;
    int st = 0;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) return -errno;
    }
    return st;
}

int rft_notif_recv(int listener, uint64_t *id, int32_t *nr, uint32_t *arch, uint32_t *pid, uint64_t args[6]) {
    struct seccomp_notif n;
    memset(&n, 0, sizeof n);
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &n) < 0) return -errno;
    *id = n.id;
    *nr = n.data.nr;
    *arch = n.data.arch;
    *pid = n.pid;
    for (int i = 0; i < 6; i++) args[i] = n.data.args[i];
    return 0;
}

int rft_notif_deny(int listener, uint64_t id, int err) {
    struct seccomp_notif_resp resp;
    memset(&resp, 0, sizeof resp);
    resp.id = id;
    resp.error = -err;
    resp.val = 0;
    resp.flags = 0;
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0) return -errno;
    return 0;
}

int rft_wifexited(int status) { return WIFEXITED(status); }
int rft_wexitstatus(int status) { return WEXITSTATUS(status); }
int rft_wifsignaled(int status) { return WIFSIGNALED(status); }
int rft_wtermsig(int status) { return WTERMSIG(status); }

static int netns_child(void *arg) {
    int *out = arg;
    long fd = RS4(SYS_openat, AT_FDCWD, "/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC, 0);
    *out = (int)fd;
    c_exit(0);
}

int rft_make_netns(int *fd_out) {
    // A vfork-style child with a shared fd table creates the namespace and opens it for us.
    static const size_t size = 16384;
    void *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return -errno;
    volatile int result = -EINVAL;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int p = clone(netns_child, (char *)stack + size, CLONE_VM | CLONE_VFORK | CLONE_FILES | CLONE_NEWNET | SIGCHLD,
                  (void *)&result);
    int e = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (p < 0) { munmap(stack, size); return -e; }
    int st;
    while (waitpid(p, &st, __WALL) < 0 && errno == EINTR) {}
    munmap(stack, size);
    if (result < 0) return result;
    *fd_out = result;
    return 0;
}

struct template_args {
    const struct rft_fs_op *ops;
    int n;
    const char *new_root;
    volatile int fd;
    volatile int failed_op;
    volatile int err;
};

static int template_child(void *arg) {
    struct template_args *t = arg;
    long r = RS5(SYS_mount, 0, "/", 0, MS_REC | MS_PRIVATE, 0);
    if (r < 0) { t->err = (int)r; c_exit(1); }
    for (int i = 0; i < t->n; i++) {
        r = apply_fs_op(&t->ops[i]);
        if (r < 0) { t->err = (int)r; t->failed_op = i; c_exit(1); }
    }
    long fd = RS4(SYS_openat, AT_FDCWD, "/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) { t->err = (int)fd; c_exit(1); }
    r = RS1(SYS_chdir, t->new_root);
    if (r == 0) r = RS2(SYS_pivot_root, ".", ".");
    if (r == 0) r = RS2(SYS_umount2, ".", MNT_DETACH);
    if (r < 0) { RS1(SYS_close, fd); t->err = (int)r; c_exit(1); }
    t->fd = (int)fd;
    c_exit(0);
}

int rft_make_mount_template(const struct rft_fs_op *ops, int n, const char *new_root, int *fd_out, int *failed_op) {
    static const size_t size = 65536;
    void *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return -errno;
    struct template_args t = {.ops = ops, .n = n, .new_root = new_root, .fd = -1, .failed_op = -1, .err = 0};
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int p = clone(template_child, (char *)stack + size, CLONE_VM | CLONE_VFORK | CLONE_FILES | CLONE_NEWNS | SIGCHLD, &t);
    int e = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (p < 0) { munmap(stack, size); return -e; }
    int st;
    while (waitpid(p, &st, __WALL) < 0 && errno == EINTR) {}
    munmap(stack, size);
    *failed_op = t.failed_op;
    if (t.fd < 0) return t.err ? t.err : -EINVAL;
    *fd_out = t.fd;
    return 0;
}

struct mnt_helper_args {
    int mnt_fd;
    const char *const *paths;
    int n;
    volatile int fd;
    volatile int err;
};

static int copy_child(void *arg) {
    struct mnt_helper_args *t = arg;
    long proc = RS4(SYS_openat, AT_FDCWD, "/proc", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    if (proc < 0) { t->err = (int)proc; c_exit(1); }
    long r = RS2(SYS_setns, t->mnt_fd, CLONE_NEWNS);
    if (r == 0) r = RS1(SYS_unshare, CLONE_NEWNS);
    if (r < 0) { RS1(SYS_close, proc); t->err = (int)r; c_exit(1); }
    long fd = RS4(SYS_openat, proc, "thread-self/ns/mnt", O_RDONLY | O_CLOEXEC, 0);
    RS1(SYS_close, proc);
    if (fd < 0) { t->err = (int)fd; c_exit(1); }
    t->fd = (int)fd;
    c_exit(0);
}

static int cleanup_child(void *arg) {
    struct mnt_helper_args *t = arg;
    long r = RS2(SYS_setns, t->mnt_fd, CLONE_NEWNS);
    if (r < 0) { t->err = (int)r; c_exit(1); }
    for (int i = 0; i < t->n; i++) {
        r = RS2(SYS_umount2, t->paths[i], MNT_DETACH);
        if (r < 0 && r != -EINVAL && t->err == 0) t->err = (int)r;
    }
    c_exit(0);
}

// Runs fn(arg) in a vfork-style helper sharing our memory (all signals blocked meanwhile), waits
// for it, and stores its wait status in *status when status is not NULL.
static int run_helper(int (*fn)(void *), void *arg, int share_files, int *status) {
    static const size_t size = 16384;
    void *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return -errno;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int p = clone(fn, (char *)stack + size, CLONE_VM | CLONE_VFORK | (share_files ? CLONE_FILES : 0) | SIGCHLD, arg);
    int e = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (p < 0) { munmap(stack, size); return -e; }
    int st = 0;
    while (waitpid(p, &st, __WALL) < 0 && errno == EINTR) {}
    munmap(stack, size);
    if (status) *status = st;
    return 0;
}

int rft_make_mount_copy(int template_fd, int *fd_out) {
    struct mnt_helper_args t = {.mnt_fd = template_fd, .fd = -1, .err = 0};
    int r = run_helper(copy_child, &t, 1, NULL);
    if (r < 0) return r;
    if (t.fd < 0) return t.err ? t.err : -EINVAL;
    *fd_out = t.fd;
    return 0;
}

int rft_mount_cleanup(int mnt_fd, const char *const *paths, int n) {
    struct mnt_helper_args t = {.mnt_fd = mnt_fd, .paths = paths, .n = n, .fd = -1, .err = 0};
    int r = run_helper(cleanup_child, &t, 0, NULL);
    return r < 0 ? r : t.err;
}

static int probe_child(void *arg) {
    (void)arg;
    c_exit(0);
}

int rft_probe_clone(unsigned long flags) {
    static const size_t size = 16384;
    void *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return -errno;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int p = clone(probe_child, (char *)stack + size, (int)(CLONE_VM | CLONE_VFORK | flags | SIGCHLD), NULL);
    int e = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (p > 0) {
        int st;
        while (waitpid(p, &st, __WALL) < 0 && errno == EINTR) {}
    }
    munmap(stack, size);
    return p < 0 ? -e : 0;
}

int rft_thread_unshare_fs(void) {
    long r = RS1(SYS_unshare, CLONE_FS);
    return r < 0 ? (int)r : 0;
}

int rft_thread_mount_cleanup(int mnt_fd, const char *const *paths, int n) {
    long r = RS2(SYS_setns, mnt_fd, CLONE_NEWNS);
    if (r < 0) return (int)r;
    int err = 0;
    for (int i = 0; i < n; i++) {
        r = RS2(SYS_umount2, paths[i], MNT_DETACH);
        if (r < 0 && r != -EINVAL && err == 0) err = (int)r;
    }
    return err;
}

int rft_memfd(const char *name) {
    long r = syscall(SYS_memfd_create, name, 1U /* MFD_CLOEXEC */);
    return r < 0 ? -errno : (int)r;
}

int rft_seccomp_action_errno(int err) { return (int)(SECCOMP_RET_ERRNO | (err & SECCOMP_RET_DATA)); }
uint32_t rft_seccomp_action_notify(void) { return SECCOMP_RET_USER_NOTIF; }
uint32_t rft_seccomp_action_kill_process(void) { return SECCOMP_RET_KILL_PROCESS; }

int rft_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC) == 0 ? 0 : -errno; }

int rft_kill_uid(uint32_t uid) {
    uint32_t u = uid;
    int st = -1;
    int r = run_helper(killer_child, &u, 0, &st);
    if (r < 0) return r;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EPERM;
}

static int remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw) {
    (void)sb; (void)ftw;
    int r = type == FTW_DP ? rmdir(path) : unlink(path);
    return r == 0 || errno == ENOENT ? 0 : -errno;
}

int rft_remove_tree(const char *path) {
    int r = nftw(path, remove_entry, 16, FTW_PHYS | FTW_DEPTH | FTW_MOUNT);
    if (r == -1) return errno == ENOENT ? 0 : -errno;
    return r;
}
