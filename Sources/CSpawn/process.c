// Process plumbing for the Swift side: pidfds, wait status, seccomp notifications, small wrappers,
// and killing every process of a uid.
#define _GNU_SOURCE
#include "internal.h"

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
    int r = run_helper(killer_child, &u, 0, HELPER_STACK_SIZE, &st);
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
