import CSpawn
import Glibc

/// The filesystem a sandboxed process sees, as an ordered list of mount operations that the
/// spawn shim runs inside a fresh mount namespace before `pivot_root`:
///
/// - `/` is a small read-only tmpfs holding only mount points;
/// - `/usr`, `/etc` and the host's `/bin`, `/lib*`, `/sbin` (symlinks or read-only binds) are read-only,
///   nosuid, nodev; `/etc/shadow` stays unreadable to the unprivileged uid;
/// - `/dev` holds null, zero, full, random, urandom and a private `/dev/shm` tmpfs;
/// - `/tmp` is a private tmpfs capped at `scratchSizeMB` (the working directory and `$HOME`);
/// - `/proc` is a fresh procfs of the sandbox's PID namespace (hidepid=2);
/// - `readOnlyPaths` appear read-only at their own paths; nothing else of the host (no `$HOME`,
///   `/root`, `/sys`, other invocations' scratch) exists inside.
struct FilesystemView {
    /// Paths the sandbox owns; they cannot be mapped from the host.
    static let reservedPrefixes = ["/proc", "/dev", "/sys"]

    /// Host directory used as the mount point of the new root (empty; mounts happen in the child's namespace).
    let newRoot: String
    let ops: [Op]

    struct Op {
        var kind: Int32
        var flags: UInt32 = 0
        var mountFlags: UInt = 0
        var mode: Int32 = 0
        var src: String? = nil
        var dst: String
        var data: String? = nil
    }

    static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for c in path.split(separator: "/") {
            if c == "." || c.isEmpty { continue }
            if c == ".." { _ = parts.popLast(); continue }
            parts.append(c)
        }
        return "/" + parts.joined(separator: "/")
    }

    static func make(policy: SandboxPolicy, newRoot: String) throws -> FilesystemView {
        var ops: [Op] = []
        let r = newRoot
        let nosuidNodev = UInt(MS_NOSUID | MS_NODEV)
        func mkdir(_ p: String, _ mode: Int32 = 0o755) { ops.append(Op(kind: Int32(RFT_FS_MKDIR.rawValue), mode: mode, dst: r + p)) }
        func bindRO(_ src: String, _ dst: String, optional: Bool = false) {
            ops.append(Op(kind: Int32(RFT_FS_BIND.rawValue), flags: RFT_FS_RDONLY | (optional ? RFT_FS_OPTIONAL : 0),
                          src: src, dst: r + dst))
        }
        ops.append(Op(kind: Int32(RFT_FS_MOUNT.rawValue), mountFlags: nosuidNodev, src: "tmpfs", dst: r,
                      data: "size=1m,nr_inodes=1024,mode=755"))
        mkdir("/usr")
        bindRO("/usr", "/usr")
        for top in ["bin", "sbin", "lib", "lib32", "lib64", "libx32"] {
            let host = "/" + top
            var st = stat()
            guard lstat(host, &st) == 0 else { continue }
            if st.st_mode & S_IFMT == S_IFLNK {
                var buf = [CChar](repeating: 0, count: 4096)
                let n = readlink(host, &buf, buf.count - 1)
                guard n > 0 else { continue }
                let target = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                ops.append(Op(kind: Int32(RFT_FS_SYMLINK.rawValue), src: target, dst: r + host))
            } else if st.st_mode & S_IFMT == S_IFDIR {
                mkdir(host)
                bindRO(host, host)
            }
        }
        mkdir("/etc")
        bindRO("/etc", "/etc")
        // /dev
        mkdir("/dev")
        for dev in ["null", "zero", "full", "random", "urandom"] {
            ops.append(Op(kind: Int32(RFT_FS_TOUCH.rawValue), mode: 0o666, dst: r + "/dev/" + dev))
            ops.append(Op(kind: Int32(RFT_FS_BIND.rawValue), src: "/dev/" + dev, dst: r + "/dev/" + dev))
        }
        for (name, target) in [("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                               ("stderr", "/proc/self/fd/2")] {
            ops.append(Op(kind: Int32(RFT_FS_SYMLINK.rawValue), src: target, dst: r + "/dev/" + name))
        }
        mkdir("/dev/shm")
        let shmMB = max(policy.scratchSizeMB, (policy.memoryMB ?? policy.scratchSizeMB) * 2)
        ops.append(Op(kind: Int32(RFT_FS_MOUNT.rawValue), mountFlags: nosuidNodev, src: "tmpfs", dst: r + "/dev/shm",
                      data: "size=\(shmMB)m,nr_inodes=4096,mode=1777"))
        // Scratch.
        mkdir("/tmp")
        let inodes = max(1024, policy.scratchSizeMB * 64)
        ops.append(Op(kind: Int32(RFT_FS_MOUNT.rawValue), mountFlags: nosuidNodev, src: "tmpfs", dst: r + "/tmp",
                      data: "size=\(policy.scratchSizeMB)m,nr_inodes=\(inodes),mode=1777"))
        // Fresh /proc of the sandbox's PID namespace.
        mkdir("/proc")
        ops.append(Op(kind: Int32(RFT_FS_MOUNT.rawValue), mountFlags: nosuidNodev | UInt(MS_NOEXEC), src: "proc",
                      dst: r + "/proc", data: "hidepid=2"))
        // Extra read-only paths, after the mounts they may live under.
        var covered = ["/usr", "/etc"]
        for raw in policy.readOnlyPaths {
            let path = normalize(raw)
            if covered.contains(where: { path == $0 || path.hasPrefix($0 + "/") }) { continue }
            var st = stat()
            guard stat(path, &st) == 0 else {
                throw SandboxError(layer: "filesystem", message: "readOnlyPaths: \(raw): \(String(cString: strerror(errno)))")
            }
            var parent = ""
            let comps = path.split(separator: "/")
            for c in comps.dropLast() {
                parent += "/" + c
                mkdir(parent)
            }
            if st.st_mode & S_IFMT == S_IFDIR {
                mkdir(path)
            } else {
                ops.append(Op(kind: Int32(RFT_FS_TOUCH.rawValue), mode: 0o644, dst: r + path))
            }
            bindRO(path, path)
            covered.append(path)
        }
        ops.append(Op(kind: Int32(RFT_FS_REMOUNT_RO.rawValue), mountFlags: nosuidNodev, dst: r))
        return FilesystemView(newRoot: newRoot, ops: ops)
    }
}
