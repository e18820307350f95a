#ifndef RFT_CSPAWN_H
#define RFT_CSPAWN_H
/*
 * rft's spawn shim: a vfork-style launcher that applies a prepared sandbox configuration
 * between clone and exec using raw, async-signal-safe system calls only.
 *
 * Process shape (a new PID namespace is always requested):
 *
 *   parent P --clone(CLONE_VM | CLONE_NEW*)--> A  (pid 1 of the sandbox: joins the prepared network
 *                                                   and mount namespaces, mounts the per-run
 *                                                   filesystems, then reaps and reports; never execs)
 *   A --clone(CLONE_VM)--> B                       (joins cgroups, sets rlimits, drops ids, loads
 *                                                   seccomp, execs the target)
 *
 * A and B share P's address space until B execs, so P's size does not matter (no page-table copy).
 * A and B each run on their own stack and touch nothing else but the configuration block, which P
 * keeps alive until B's exec pipe (close-on-exec) reports EOF. B runs beside A, so A is not woken
 * at exec. Over a SOCK_SEQPACKET control socket, B sends the seccomp listener (SCM_RIGHTS) just
 * before exec, A or B report a pre-exec failure (stage + errno), and A reports B's exit status
 * with its rusage before exiting (which, as pid 1, kills whatever B left behind).
 */
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Filesystem operations executed by A inside the new mount namespace, in order. */
enum rft_fs_op_kind {
    RFT_FS_MKDIR = 1,      /* dst, mode */
    RFT_FS_SYMLINK = 2,    /* src = link target, dst = link path */
    RFT_FS_BIND = 3,       /* src -> dst (recursive); flags & RFT_FS_RDONLY: remount read-only, nosuid, nodev */
    RFT_FS_MOUNT = 4,      /* src = fs type, dst, data = options, flags = MS_* flags */
    RFT_FS_TOUCH = 5,      /* create an empty file (a bind target), mode */
    RFT_FS_REMOUNT_RO = 6, /* dst: make this mount read-only (MS_BIND | MS_REMOUNT) */
    RFT_FS_CHMOD = 7,      /* dst, mode */
};
#define RFT_FS_RDONLY 1u
#define RFT_FS_OPTIONAL 2u /* ignore ENOENT on the source */

struct rft_fs_op {
    int kind;
    unsigned int op_flags;
    unsigned long mount_flags;
    int mode;
    const char *src;
    const char *dst;
    const char *data;
};

struct rft_rlimit {
    int resource;
    uint64_t soft;
    uint64_t hard;
};

/* Stages reported with a failure (stage + errno). Keep in sync with SpawnStage in Swift. */
enum rft_stage {
    RFT_STAGE_NONE = 0,
    RFT_STAGE_SIGNALS = 1,
    RFT_STAGE_USERNS_SETGROUPS = 2,
    RFT_STAGE_USERNS_UIDMAP = 3,
    RFT_STAGE_USERNS_GIDMAP = 4,
    RFT_STAGE_SETNS_NET = 5,
    RFT_STAGE_HOSTNAME = 6,
    RFT_STAGE_MOUNT_PRIVATE = 7,
    RFT_STAGE_FS_OP = 8,           /* detail = index of the failed rft_fs_op */
    RFT_STAGE_PIVOT_ROOT = 9,
    RFT_STAGE_CLONE_CHILD = 10,
    RFT_STAGE_CGROUP = 11,         /* detail = index of the cgroup fd */
    RFT_STAGE_RLIMIT = 12,         /* detail = resource */
    RFT_STAGE_SETGROUPS = 13,
    RFT_STAGE_SETGID = 14,
    RFT_STAGE_SETUID = 15,
    RFT_STAGE_CHDIR = 16,
    RFT_STAGE_FDS = 17,
    RFT_STAGE_NO_NEW_PRIVS = 18,
    RFT_STAGE_SECCOMP = 19,
    RFT_STAGE_LISTENER = 20,
    RFT_STAGE_EXEC = 21,
    RFT_STAGE_SIGNALFD = 22,
    RFT_STAGE_CHROOT_CWD = 23,
};

enum rft_msg_kind {
    RFT_MSG_FAIL = 1,     /* stage, detail, err */
    RFT_MSG_LISTENER = 2, /* B -> P: the seccomp listener fd (SCM_RIGHTS), sent just before exec */
    RFT_MSG_STARTED = 3,  /* unused (exec is signalled by the exec pipe's EOF) */
    RFT_MSG_EXIT = 4,     /* status = B's raw wait status; rusage of B and its reaped children */
};

struct rft_msg {
    int32_t kind;
    int32_t stage;
    int32_t detail;
    int32_t err;
    int32_t status;
    int32_t pid;
    int64_t utime_us;
    int64_t stime_us;
    int64_t maxrss_kb;
};

struct rft_spawn_config {
    /* Target */
    const char *const *exec_paths; /* candidate paths tried in order (PATH search done by the caller) */
    int n_exec_paths;
    char *const *argv;
    char *const *envp;

    /* fds: child fd i <- fds[i] for i < n_fds (fds[i] = -1: leave closed). All other fds are closed at exec. */
    const int *fds;
    int n_fds;

    /* A: namespaces and filesystem view */
    unsigned long clone_flags;  /* CLONE_NEW* flags for A */
    int netns_fd;               /* >= 0: setns into this network namespace */
    int userns;                 /* A writes the maps below into /proc/self/{setgroups,uid_map,gid_map} */
    const char *uid_map;
    const char *gid_map;
    const char *hostname;       /* NULL: keep */
    int mnt_template_fd;        /* >= 0: setns into this prepared mount namespace (and, with mnt_unshare,
                                   unshare a private copy), then run fs_ops (paths inside the view);
                                   new_root is ignored */
    int mnt_unshare;
    const char *new_root;       /* NULL: no filesystem view; else fs_ops run, then pivot_root here */
    const struct rft_fs_op *fs_ops;
    int n_fs_ops;

    /* B: process limits and identity */
    const int *cgroup_fds;      /* "0" is written to each (cgroup.procs / tasks) */
    int n_cgroup_fds;
    const struct rft_rlimit *rlimits;
    int n_rlimits;
    int drop_ids;
    uint32_t uid;
    uint32_t gid;
    const char *workdir;        /* chdir inside the final view */
    int no_new_privs;
    /* No-namespace mode (root without namespaces, clone_flags == 0): A becomes a child subreaper;
     * once B has exited, or when A receives SIGUSR1 (the parent's kill), A SIGKILLs every process of
     * kill_uid (a short-lived helper that is that uid runs kill(-1, SIGKILL)) and reaps until it has
     * no child left, and only then reports B's exit and exits. */
    int kill_uid_mode;
    uint32_t kill_uid;
    const void *filter;         /* struct sock_filter array, or NULL */
    unsigned short filter_len;
    unsigned int filter_flags;  /* SECCOMP_FILTER_FLAG_* (NEW_LISTENER: fd is sent to P) */

    /* Plumbing */
    int control_fd;             /* child end of the SOCK_SEQPACKET control socket */
    int exec_fd;                /* write end of a close-on-exec pipe: EOF = B exec'd or died (-1: none) */
    void *stack_a;
    size_t stack_a_size;
    void *stack_b;
    size_t stack_b_size;
};

/* Starts A. On success returns 0 and fills *pid and *pidfd (A's). Returns -errno on failure. */
int rft_spawn(const struct rft_spawn_config *cfg, pid_t *pid, int *pidfd);

/* Receives one control message; *fd_out receives a passed fd or -1. Returns bytes read, 0 on EOF, -errno. */
ssize_t rft_recv_msg(int fd, struct rft_msg *msg, int *fd_out);

/* Waits for a child by pidfd (WEXITED, __WALL), with rusage. Returns 0 or -errno. */
int rft_wait_pidfd(int pidfd, int *status, int64_t *utime_us, int64_t *stime_us, int64_t *maxrss_kb, int nohang);

/* pidfd_send_signal. Returns 0 or -errno. */
int rft_pidfd_kill(int pidfd, int sig);

/* Plain posix_spawn + waitpid of path (the benchmark's baseline). Returns the wait status or -errno. */
int rft_plain_spawn_wait(const char *path, char *const *argv, char *const *envp);

/* seccomp user notification: receive one notification (the syscall nr and arch) and answer it with
 * -err. Returns 0, or -errno (ENOENT: the target died before the answer). */
int rft_notif_recv(int listener, uint64_t *id, int32_t *nr, uint32_t *arch, uint32_t *pid, uint64_t args[6]);
int rft_notif_deny(int listener, uint64_t id, int err);

/* Builds a mount namespace once: runs ops (host paths), then pivot_root(new_root). The namespace
 * stays alive through *fd_out (an nsfs fd); children join it with setns and unshare a copy.
 * Returns 0, or -errno with *failed_op = index of the failing op (-1: namespace/pivot). */
int rft_make_mount_template(const struct rft_fs_op *ops, int n, const char *new_root, int *fd_out, int *failed_op);

/* A private copy of a template mount namespace, held by *fd_out. Returns 0 or -errno. */
int rft_make_mount_copy(int template_fd, int *fd_out);

/* Lazily unmounts paths (MNT_DETACH) inside the mount namespace mnt_fd. Returns 0 or the first -errno
 * other than EINVAL (not a mount point). */
int rft_mount_cleanup(int mnt_fd, const char *const *paths, int n);

/* Probes whether a child can be created with these CLONE_NEW* flags. Returns 0 or -errno. */
int rft_probe_clone(unsigned long flags);

/* SIGKILLs every process of uid once: a short-lived helper that is that uid runs kill(-1, SIGKILL).
 * Returns 0 or -errno. The no-namespace mode's last resort, should the init be gone. */
int rft_kill_uid(uint32_t uid);

/* Removes a directory tree without following symlinks (nftw, FTW_PHYS | FTW_DEPTH). 0 or -errno. */
int rft_remove_tree(const char *path);

/* For a dedicated thread: give it its own filesystem context (unshare(CLONE_FS)), so it may then
 * enter mount namespaces with rft_thread_mount_cleanup without creating processes. 0 or -errno. */
int rft_thread_unshare_fs(void);

/* On a thread prepared with rft_thread_unshare_fs: setns into mnt_fd and lazily unmount paths.
 * Returns 0 or the first -errno other than EINVAL (not a mount point). */
int rft_thread_mount_cleanup(int mnt_fd, const char *const *paths, int n);

/* Small wrappers for things Swift cannot call or import. */
int rft_wifexited(int status);
int rft_wexitstatus(int status);
int rft_wifsignaled(int status);
int rft_wtermsig(int status);
int rft_make_netns(int *fd_out); /* new empty network namespace held by the returned fd; 0 or -errno */
int rft_memfd(const char *name);
int rft_seccomp_action_errno(int err);
uint32_t rft_seccomp_action_notify(void);
uint32_t rft_seccomp_action_kill_process(void);

#define RFT_RLIMIT_CPU 0
#define RFT_RLIMIT_FSIZE 1
#define RFT_RLIMIT_CORE 4
#define RFT_RLIMIT_NPROC 6
#define RFT_RLIMIT_NOFILE 7
#define RFT_RLIMIT_AS 9
#define RFT_SECCOMP_FLAG_NEW_LISTENER 8u

/* pipe2(fds, O_CLOEXEC). Returns 0 or -errno. */
int rft_pipe_cloexec(int fds[2]);

#define RFT_CLONE_NEWNS 0x00020000
#define RFT_CLONE_NEWUTS 0x04000000
#define RFT_CLONE_NEWIPC 0x08000000
#define RFT_CLONE_NEWUSER 0x10000000
#define RFT_CLONE_NEWPID 0x20000000
#define RFT_CLONE_NEWNET 0x40000000
#define RFT_CLONE_NEWCGROUP 0x02000000

#ifdef __cplusplus
}
#endif
#endif
