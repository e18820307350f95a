// Namespaces prepared outside a spawn: the empty network namespace, the template mount namespace and
// its per-run copies, their cleanup, and the probe that tells whether namespaces can be created.
#define _GNU_SOURCE
#include "internal.h"

// Runs fn(arg) in a vfork-style helper sharing our memory (CLONE_VM | CLONE_VFORK | SIGCHLD plus
// `flags`, on a fresh stack of `stack_size` bytes, all signals blocked around the clone), waits
// for it, and stores its wait status in *status when status is not NULL. Returns 0, or -errno when
// the stack cannot be mapped or the clone fails. Every helper the parent (P) starts and waits for
// goes through here; A's kill_round (spawn.c) cannot: it runs between clone and exec, raw syscalls only.
int run_helper(int (*fn)(void *), void *arg, unsigned long flags, size_t stack_size, int *status) {
    void *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return -errno;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int p = clone(fn, (char *)stack + stack_size, (int)(CLONE_VM | CLONE_VFORK | flags | SIGCHLD), arg);
    int e = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (p < 0) { munmap(stack, stack_size); return -e; }
    int st = 0;
    while (waitpid(p, &st, __WALL) < 0 && errno == EINTR) {}
    munmap(stack, stack_size);
    if (status) *status = st;
    return 0;
}

static int netns_child(void *arg) {
    int *out = arg;
    long fd = RS4(SYS_openat, AT_FDCWD, "/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC, 0);
    *out = (int)fd;
    c_exit(0);
}

int rft_make_netns(int *fd_out) {
    // A vfork-style child with a shared fd table creates the namespace and opens it for us.
    volatile int result = -EINVAL;
    int r = run_helper(netns_child, (void *)&result, CLONE_FILES | CLONE_NEWNET, HELPER_STACK_SIZE, NULL);
    if (r < 0) return r;
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
    struct template_args t = {.ops = ops, .n = n, .new_root = new_root, .fd = -1, .failed_op = -1, .err = 0};
    int r = run_helper(template_child, &t, CLONE_FILES | CLONE_NEWNS, 65536, NULL); // apply_fs_op runs deeper
    if (r < 0) return r;
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

int rft_make_mount_copy(int template_fd, int *fd_out) {
    struct mnt_helper_args t = {.mnt_fd = template_fd, .fd = -1, .err = 0};
    int r = run_helper(copy_child, &t, CLONE_FILES, HELPER_STACK_SIZE, NULL);
    if (r < 0) return r;
    if (t.fd < 0) return t.err ? t.err : -EINVAL;
    *fd_out = t.fd;
    return 0;
}

int rft_mount_cleanup(int mnt_fd, const char *const *paths, int n) {
    struct mnt_helper_args t = {.mnt_fd = mnt_fd, .paths = paths, .n = n, .fd = -1, .err = 0};
    int r = run_helper(cleanup_child, &t, 0, HELPER_STACK_SIZE, NULL);
    return r < 0 ? r : t.err;
}

static int probe_child(void *arg) {
    (void)arg;
    c_exit(0);
}

int rft_probe_clone(unsigned long flags) {
    return run_helper(probe_child, NULL, flags, HELPER_STACK_SIZE, NULL);
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

