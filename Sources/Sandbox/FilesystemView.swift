import CSpawn
import Glibc

/// The filesystem a sandboxed process sees, as mount operations the spawn shim runs in a mount
/// namespace:
///
/// - `/` is a small read-only tmpfs holding only mount points;
/// - `/usr`, `/etc` and the host's `/bin`, `/lib*`, `/sbin` (symlinks or read-only binds) are
///   read-only, nosuid, nodev; `/etc/shadow` stays unreadable to the unprivileged uid;
/// - `/dev` holds null, zero, full, random, urandom and a private `/dev/shm` tmpfs;
/// - `/tmp` is a private tmpfs capped at `scratchSizeMB` (the working directory and `$HOME`);
/// - `/proc` is a fresh procfs of the sandbox's PID namespace (hidepid=2);
/// - `readOnlyPaths` appear read-only at their own paths; nothing else of the host (no `$HOME`,
///   `/root`, `/sys`, other invocations' scratch) exists inside.
///
/// The view has a static part (built once per policy: as root into a template mount namespace
/// that each run copies) and a per-run part (fresh `/tmp`, `/dev/shm`, `/proc`). Read-only paths
/// under `/tmp` are staged under `/.rft-ro/N` in the static part and bound into each fresh `/tmp`.
struct FilesystemView {
    /// Paths the sandbox owns; they cannot be mapped from the host.
    static let reservedPrefixes = ["/proc", "/dev", "/sys", "/.rft-ro"]

    struct Op {
        var kind: Int32
        var flags: UInt32 = 0
        var mountFlags: UInt = 0
        var mode: Int32 = 0
        /// Host path (binds), link target (symlinks) or fs type (mounts).
        var src: String? = nil
        /// Whether `src` is a path inside the view (gets the root prefix like `dst`).
        var srcInView = false
        /// Path inside the view.
        var dst: String
        var data: String? = nil

        func resolved(root: String) -> Op {
            var o = self
            o.dst = root + dst
            if srcInView, let s = src { o.src = root + s }
            return o
        }
    }

    /// Built once: mount points, system directories, devices, read-only paths. Ends with `/` read-only.
    let staticOps: [Op]
    /// Per run: fresh scratch, /dev/shm, /proc, and the staged read-only paths under /tmp.
    let runOps: [Op]

    static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for c in path.split(separator: "/") {
            if c == "." || c.isEmpty { continue }
            if c == ".." { _ = parts.popLast(); continue }
            parts.append(c)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The ops of the whole view with host-side paths under `root` (no template).
    func allOps(root: String) -> [Op] { (staticOps + runOps).map { $0.resolved(root: root) } }

    static func make(policy: SandboxPolicy) throws -> FilesystemView {
        var st: [Op] = []
        var run: [Op] = []
        let nosuidNodev = UInt(MS_NOSUID | MS_NODEV)
        func mkdir(_ p: String, into ops: inout [Op]) { ops.append(Op(kind: Int32(RFT_FS_MKDIR.rawValue), mode: 0o755, dst: p)) }
        func bindRO(_ src: String, _ dst: String, srcInView: Bool = false, into ops: inout [Op]) {
            ops.append(Op(kind: Int32(RFT_FS_BIND.rawValue), flags: RFT_FS_RDONLY, src: src, srcInView: srcInView, dst: dst))
        }
        st.append(Op(kind: Int32(RFT_FS_MOUNT.rawValue), mountFlags: nosuidNodev, src: "tmpfs", dst: "",
                     data: "size=1m,nr_inodes=1024,mode=755"))
        mkdir("/usr", into: &st)
        bindRO("/usr", "/usr", into: &st)
        for top in ["bin", "sbin", "lib", "lib32", "lib64", "libx32"] {
            let host = "/" + top
            var sb = stat()
            guard lstat(host, &sb) == 0 else { continue }
            if sb.st_mode & S_IFMT == S_IFLNK {
                var buf = [CChar](repeating: 0, count: 4096)
                let n = readlink(host, &buf, buf.count - 1)
                guard n > 0 else { continue }
                let target = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                st.append(Op(kind: Int32(RFT_FS_SYMLINK.rawValue), src: target, dst: host))
            } else if sb.st_mode & S_IFMT == S_IFDIR {
                mkdir(host, into: &st)
                bindRO(host, host, into: &st)
            }
        }
        mkdir("/etc", into: &st)
        bindRO("/etc", "/etc", into: &st)
        mkdir("/dev", into: &st)
        for dev in ["null", "zero", "full", "random", "urandom"] {
            st.append(Op(kind: Int32(RFT_FS_TOUCH.rawValue), mode: 0o666, dst: "/dev/" + dev))
            st.append(Op(kind: Int32(RFT_FS_BIND.rawValue), src: "/dev/" + dev, dst: "/dev/" + dev))
        }
        for (name, target) in [("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                               ("stderr", "/proc/self/fd/2")] {
            st.append(Op(kind: Int32(RFT_FS_SYMLINK.rawValue), src: target, dst: "/dev/" + name))
        }
        mkdir("/dev/shm", into: &st)
        mkdir("/tmp", into: &st)
        mkdir("/proc", into: &st)

        // Per run: scratch, shm (sized so the memory cgroup, not ENOSPC, stops a /dev/shm hog), proc.
        let inodes = max(1024, policy.scratchSizeMB * 64)
        run.append(Op(kind: Int32(RFT_FS_MOUNT.rawValue), mountFlags: nosuidNodev, src: "tmpfs", dst: "/tmp",
                      data: "size=\(policy.scratchSizeMB)m,nr_inodes=\(inodes),mode=1777"))
        let shmMB = max(policy.scratchSizeMB, (policy.memoryMB ?? policy.scratchSizeMB) * 2)
        run.append(Op(kind: Int32(RFT_FS_MOUNT.rawValue), mountFlags: nosuidNodev, src: "tmpfs", dst: "/dev/shm",
                      data: "size=\(shmMB)m,nr_inodes=4096,mode=1777"))
        run.append(Op(kind: Int32(RFT_FS_MOUNT.rawValue), mountFlags: nosuidNodev | UInt(MS_NOEXEC), src: "proc",
                      dst: "/proc", data: "hidepid=2"))

        // Extra read-only paths.
        var covered = ["/usr", "/etc"]
        var staged = 0
        for raw in policy.readOnlyPaths {
            let path = normalize(raw)
            if covered.contains(where: { path == $0 || path.hasPrefix($0 + "/") }) { continue }
            var sb = stat()
            guard stat(path, &sb) == 0 else {
                throw SandboxError(layer: "filesystem", message: "readOnlyPaths: \(raw): \(String(cString: strerror(errno)))")
            }
            let isDir = sb.st_mode & S_IFMT == S_IFDIR
            func target(_ p: String, into ops: inout [Op]) {
                var parent = ""
                for c in p.split(separator: "/").dropLast() {
                    parent += "/" + c
                    mkdir(parent, into: &ops)
                }
                if isDir { mkdir(p, into: &ops) } else { ops.append(Op(kind: Int32(RFT_FS_TOUCH.rawValue), mode: 0o644, dst: p)) }
            }
            if path == "/tmp" || path.hasPrefix("/tmp/") {
                let stage = "/.rft-ro/\(staged)"
                staged += 1
                if staged == 1 { mkdir("/.rft-ro", into: &st) }
                if isDir { mkdir(stage, into: &st) } else { st.append(Op(kind: Int32(RFT_FS_TOUCH.rawValue), mode: 0o644, dst: stage)) }
                bindRO(path, stage, into: &st)
                target(path, into: &run)
                bindRO(stage, path, srcInView: true, into: &run)
            } else {
                target(path, into: &st)
                bindRO(path, path, into: &st)
            }
            covered.append(path)
        }
        st.append(Op(kind: Int32(RFT_FS_REMOUNT_RO.rawValue), mountFlags: nosuidNodev, dst: ""))
        return FilesystemView(staticOps: st, runOps: run)
    }
}
