import CSeccomp
import CSpawn
import Glibc

/// The seccomp program of a policy, compiled once (libseccomp → BPF) and loaded by every child.
///
/// - Forbidden calls (ptrace, mount, bpf, keyctl, clock setting, module loading, namespaces,
///   TIOCSTI, non-native architectures, ...) raise a user notification: the runtime reads the
///   syscall from the kernel, answers EPERM and stops the sandbox with `syscall_violation`.
/// - `clone3` and `io_uring_*` return ENOSYS (glibc falls back to `clone`, whose flags are filtered).
/// - `clone` with namespace flags returns EPERM.
/// - With `network: .none`, `socket` of any family but AF_UNIX returns EPERM.
struct SyscallFilter {
    /// The BPF instructions (struct sock_filter, 8 bytes each).
    let program: [UInt64]
    /// Whether the program uses user notifications (a listener fd is requested).
    let usesListener: Bool

    /// Calls that stop the sandbox with `syscall_violation`.
    static let forbidden: [String] = [
        "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
        "bpf", "perf_event_open", "userfaultfd", "fanotify_init",
        "keyctl", "add_key", "request_key",
        "mount", "umount2", "pivot_root", "chroot", "mount_setattr", "move_mount", "open_tree",
        "fsopen", "fsconfig", "fsmount", "fspick", "setns", "unshare",
        "swapon", "swapoff", "reboot", "kexec_load", "kexec_file_load",
        "init_module", "finit_module", "delete_module",
        "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
        "acct", "quotactl", "quotactl_fd", "lookup_dcookie", "open_by_handle_at", "name_to_handle_at",
        "iopl", "ioperm", "syslog", "vhangup", "uselib", "nfsservctl", "personality",
    ]

    static func compile(network: NetworkAccess) throws -> SyscallFilter {
        guard let ctx = seccomp_init(SCMP_ACT_ALLOW) else {
            throw SandboxError(layer: "seccomp", message: "seccomp_init failed")
        }
        defer { seccomp_release(ctx) }
        let notify = rft_seccomp_action_notify()
        // Non-native architectures (i386 int 0x80, x32): notify, so the listener names the call.
        let usesListener = true
        if seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, notify) != 0 {
            _ = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, rft_seccomp_action_kill_process())
        }
        func add(_ action: UInt32, _ name: String, _ cmps: [scmp_arg_cmp] = []) throws {
            let nr = seccomp_syscall_resolve_name(name)
            if nr == __NR_SCMP_ERROR { return } // unknown on this architecture
            let rc = cmps.withUnsafeBufferPointer {
                seccomp_rule_add_array(ctx, action, nr, UInt32($0.count), $0.baseAddress)
            }
            if rc != 0 {
                throw SandboxError(layer: "seccomp", message: "rule for \(name) rejected: \(String(cString: strerror(-rc)))")
            }
        }
        func errno(_ e: Int32) -> UInt32 { UInt32(bitPattern: rft_seccomp_action_errno(e)) }
        func masked(_ arg: UInt32, _ mask: UInt64, _ value: UInt64) -> scmp_arg_cmp {
            scmp_arg_cmp(arg: arg, op: SCMP_CMP_MASKED_EQ, datum_a: mask, datum_b: value)
        }

        for name in forbidden { try add(notify, name) }
        // Terminal injection.
        try add(notify, "ioctl", [masked(1, 0xffff_ffff, UInt64(TIOCSTI))])
        try add(notify, "ioctl", [masked(1, 0xffff_ffff, UInt64(TIOCLINUX))])
        // Calls glibc falls back from, and io_uring (it performs I/O behind seccomp's back).
        for name in ["clone3", "io_uring_setup", "io_uring_enter", "io_uring_register"] { try add(errno(ENOSYS), name) }
        // No new namespaces from inside.
        for flag in [RFT_CLONE_NEWNS, RFT_CLONE_NEWUTS, RFT_CLONE_NEWIPC, RFT_CLONE_NEWUSER, RFT_CLONE_NEWPID,
                     RFT_CLONE_NEWNET, RFT_CLONE_NEWCGROUP] {
            try add(errno(EPERM), "clone", [masked(0, UInt64(flag), UInt64(flag))])
        }
        if network == .none {
            try add(errno(EPERM), "socket", [scmp_arg_cmp(arg: 0, op: SCMP_CMP_NE, datum_a: UInt64(AF_UNIX), datum_b: 0)])
        }

        let fd = rft_memfd("rft-seccomp")
        guard fd >= 0 else { throw SandboxError(layer: "seccomp", message: "memfd_create: \(String(cString: strerror(-fd)))") }
        defer { close(fd) }
        let rc = seccomp_export_bpf(ctx, fd)
        guard rc == 0 else { throw SandboxError(layer: "seccomp", message: "seccomp_export_bpf: \(String(cString: strerror(-rc)))") }
        let size = Int(lseek(fd, 0, SEEK_END))
        guard size > 0, size % 8 == 0 else { throw SandboxError(layer: "seccomp", message: "exported program has \(size) bytes") }
        var program = [UInt64](repeating: 0, count: size / 8)
        let n = program.withUnsafeMutableBytes { pread(fd, $0.baseAddress, size, 0) }
        guard n == size else { throw SandboxError(layer: "seccomp", message: "reading the exported program failed") }
        return SyscallFilter(program: program, usesListener: usesListener)
    }

    /// The name of a system call reported by the listener (e.g. "mount", or "i386:mount").
    static func name(nr: Int32, arch: UInt32) -> String {
        let native = seccomp_arch_native()
        if let p = seccomp_syscall_resolve_num_arch(arch, nr) {
            defer { free(p) }
            let s = String(cString: p)
            if arch == native { return s }
            return "\(archName(arch)):\(s)"
        }
        if arch == native && nr & 0x4000_0000 != 0 {
            if let p = seccomp_syscall_resolve_num_arch(0x4000_003E, nr) {
                defer { free(p) }
                return "x32:\(String(cString: p))"
            }
            return "x32:\(nr & ~0x4000_0000)"
        }
        return "\(archName(arch)):\(nr)"
    }

    static func archName(_ arch: UInt32) -> String {
        switch arch { // AUDIT_ARCH_* values
        case 0x4000_0003: return "i386"
        case 0xC000_003E: return "x86_64"
        case 0x4000_003E: return "x32"
        case 0xC000_00B7: return "aarch64"
        case 0x4000_0028: return "arm"
        default: return String(arch, radix: 16)
        }
    }
}
