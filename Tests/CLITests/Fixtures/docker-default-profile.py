#!/usr/bin/env python3
"""Runs a command the way Docker's default settings confine a container's root, for real:

- a seccomp filter (libseccomp through ctypes) that answers EPERM to unshare, setns, mount and to
  clone with any CLONE_NEW* flag, and ENOSYS to clone3 (what Docker's default profile does for a
  container without CAP_SYS_ADMIN);
- no CAP_SYS_ADMIN: dropped from the bounding, inheritable, permitted, effective and ambient sets,
  so the command cannot get it back at exec.

Usage: docker-default-profile.py COMMAND [ARGS...]  (as root; execs COMMAND)
"""
import ctypes
import errno
import os
import sys

CAP_SYS_ADMIN = 21
PR_CAPBSET_DROP = 24
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
SYS_CAPGET, SYS_CAPSET = 125, 126  # x86_64
LINUX_CAPABILITY_VERSION_3 = 0x20080522
SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_FLTATR_CTL_NNP = 3
SCMP_CMP_MASKED_EQ = 7
CLONE_NEW = [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000, 0x00000080]


def errno_action(e):
    return 0x00050000 | (e & 0xFFFF)


class ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


class CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def check(rc, what):
    if rc != 0:
        sys.exit(f"docker-default-profile: {what} failed: {rc}")


def install_filter():
    lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(ArgCmp)]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
    if not ctx:
        sys.exit("docker-default-profile: seccomp_init failed")
    check(lib.seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0), "disabling no_new_privs")  # Docker leaves it off

    def rule(action, name, cmps=()):
        nr = lib.seccomp_syscall_resolve_name(name.encode())
        arr = (ArgCmp * max(1, len(cmps)))(*cmps)
        check(lib.seccomp_rule_add_array(ctx, action, nr, len(cmps), arr), f"rule for {name}")

    for name in ("unshare", "setns", "mount"):
        rule(errno_action(errno.EPERM), name)
    for flag in CLONE_NEW:
        rule(errno_action(errno.EPERM), "clone", [ArgCmp(0, SCMP_CMP_MASKED_EQ, flag, flag)])
    rule(errno_action(errno.ENOSYS), "clone3")
    check(lib.seccomp_load(ctx), "seccomp_load")


def drop_sys_admin():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    check(libc.prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0), "PR_CAPBSET_DROP")
    check(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clearing ambient capabilities")
    header = CapHeader(LINUX_CAPABILITY_VERSION_3, 0)
    data = (CapData * 2)()
    check(libc.syscall(SYS_CAPGET, ctypes.byref(header), data), "capget")
    bit = 1 << CAP_SYS_ADMIN
    data[0].effective &= ~bit
    data[0].permitted &= ~bit
    data[0].inheritable &= ~bit
    check(libc.syscall(SYS_CAPSET, ctypes.byref(header), data), "capset")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    install_filter()  # needs CAP_SYS_ADMIN (no_new_privs stays off), so before dropping it
    drop_sys_admin()
    os.execvp(sys.argv[1], sys.argv[1:])
