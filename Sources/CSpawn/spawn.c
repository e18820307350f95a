// rft spawn shim: the sandbox's init (A) and the target (B), from clone to exec. See include/cspawn.h.
#define _GNU_SOURCE
#include "internal.h"

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
long apply_fs_op(const struct rft_fs_op *op) {
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
int killer_child(void *arg) {
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

