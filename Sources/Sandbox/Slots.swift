import CSpawn
import Foundation

/// Unprivileged uids for concurrent sandboxes (root only): one uid per slot, so RLIMIT_NPROC and
/// file ownership never mix two invocations. Slots are claimed across processes with `flock` on
/// `/run/rft/uids/<uid>.lock`, so two rft processes never share a uid.
final class UIDAllocator: @unchecked Sendable {
    static let shared = UIDAllocator()
    static let base: UInt32 = 61_000
    static let count: UInt32 = 2_000
    private let lock = NSLock()
    private var free: [UInt32] = []
    private var next: UInt32 = 0
    private let dir = "/run/rft/uids"

    func acquire() throws -> UInt32 {
        lock.lock(); defer { lock.unlock() }
        if let u = free.popLast() { return u }
        _ = mkdir("/run/rft", 0o700)
        _ = mkdir(dir, 0o700)
        while next < Self.count {
            let uid = Self.base + next
            next += 1
            let fd = open("\(dir)/\(uid).lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw SandboxError(layer: "identity", message: "open \(dir)/\(uid).lock: \(String(cString: strerror(errno)))") }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return uid } // held for this process's lifetime
            close(fd)
        }
        throw SandboxError(layer: "identity", message: "all \(Self.count) sandbox uids from \(Self.base) are in use")
    }

    func release(_ uid: UInt32) {
        lock.lock(); free.append(uid); lock.unlock()
    }
}

/// Everything one concurrent sandbox needs, prepared once and reused: a uid (as root), cgroups,
/// an empty network namespace (as root, for `network: .none`), and the shim's stacks.
final class Slot {
    let index: Int
    let uid: UInt32?
    let cgroups: SlotCgroups?
    let netnsFD: Int32
    /// The slot's own mount namespace (root): a copy of the policy's template. Each run mounts a
    /// fresh /tmp, /dev/shm and /proc in it; they are detached again before the slot is reused.
    let mountFD: Int32
    /// Without namespaces: the current run's scratch directory (removed when the slot is released).
    var scratch: String?
    let stackA: UnsafeMutableRawPointer
    let stackB: UnsafeMutableRawPointer
    static let stackSize = 64 << 10

    init(index: Int, uid: UInt32?, cgroups: SlotCgroups?, netnsFD: Int32, mountFD: Int32) throws {
        self.index = index
        self.uid = uid
        self.cgroups = cgroups
        self.netnsFD = netnsFD
        self.mountFD = mountFD
        let a = mmap(nil, Self.stackSize * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0)
        guard let a, a != MAP_FAILED else { throw SandboxError(layer: "spawn", message: "mmap of the spawn stacks failed") }
        stackA = a
        stackB = a + Self.stackSize
    }

    /// The per-run mounts detached before reuse (submounts such as read-only paths under /tmp go along).
    static let perRunMounts = ["/tmp", "/dev/shm", "/proc"]

    /// Detaches the previous run's mounts (on the caller's thread, which must have its own
    /// filesystem context, or through a short-lived helper process when `inThread` is false).
    func resetMounts(inThread: Bool) -> SandboxError? {
        guard mountFD >= 0 else { return nil }
        let cPaths = Self.perRunMounts.map { strdup($0) }
        defer { for p in cPaths { free(p) } }
        let ptrs: [UnsafePointer<CChar>?] = cPaths.map { UnsafePointer($0) }
        let rc = inThread ? rft_thread_mount_cleanup(mountFD, ptrs, Int32(ptrs.count))
                          : rft_mount_cleanup(mountFD, ptrs, Int32(ptrs.count))
        return rc < 0 ? SandboxError(layer: "filesystem", message: "detaching the previous run's mounts: \(errnoText(-rc))") : nil
    }

    func destroy() {
        if netnsFD >= 0 { close(netnsFD) }
        if mountFD >= 0 { close(mountFD) }
        cgroups?.remove()
        if let uid { UIDAllocator.shared.release(uid) }
        munmap(stackA, Self.stackSize * 2)
    }
}

/// The slots of one `Sandbox`: grows with concurrency, reuses idle slots, removes everything on deinit.
final class SlotPool: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [Slot] = []
    private var all: [Slot] = []
    private let name: String
    private let policy: SandboxPolicy
    private let privileged: Bool
    private let support: CgroupSupport
    private let mountTemplateFD: Int32
    private let isolation: IsolationMode
    private static let serial = ManagedAtomicCounter()
    private var cleaning = 0
    private let cleaned = NSCondition()

    init(policy: SandboxPolicy, privileged: Bool, support: CgroupSupport, mountTemplateFD: Int32,
         isolation: IsolationMode) {
        self.mountTemplateFD = mountTemplateFD
        self.isolation = isolation
        self.policy = policy
        self.privileged = privileged
        self.support = support
        self.name = "\(getpid())-\(Self.serial.next())"
    }

    private var created = 0

    /// An idle slot, else a new one. (Waiting for a slot whose mounts are being reset was measured
    /// slower: the reset waits for an RCU grace period, while a new slot is a one-time cost.)
    func acquire() throws -> Slot {
        lock.lock()
        if let s = idle.popLast() { lock.unlock(); return s }
        let index = created
        created += 1
        lock.unlock()
        let uid = privileged ? try UIDAllocator.shared.acquire() : nil
        do {
            var cg: SlotCgroups? = nil
            if !support.mounts.isEmpty {
                cg = try SlotCgroups(support: support, name: "\(name)/s\(index)-\(uid ?? 0)", policy: policy)
            }
            var netns: Int32 = -1
            if privileged && policy.network == .none && isolation == .namespaces {
                let rc = rft_make_netns(&netns)
                if rc < 0 {
                    cg?.remove()
                    throw SandboxError(layer: "network", message: "creating an empty network namespace: \(String(cString: strerror(-rc)))")
                }
            }
            var mnt: Int32 = -1
            if mountTemplateFD >= 0 {
                let rc = rft_make_mount_copy(mountTemplateFD, &mnt)
                if rc < 0 {
                    cg?.remove()
                    if netns >= 0 { close(netns) }
                    throw SandboxError(layer: "filesystem", message: "copying the template mount namespace: \(errnoText(-rc))")
                }
            }
            let slot = try Slot(index: index, uid: uid, cgroups: cg, netnsFD: netns, mountFD: mnt)
            lock.lock(); all.append(slot); lock.unlock()
            return slot
        } catch {
            if let uid { UIDAllocator.shared.release(uid) }
            throw error
        }
    }

    /// Returns a slot after its run was reaped. Its per-run mounts are detached off the caller's
    /// path (the kernel waits for an RCU grace period there); the slot is reusable afterwards.
    func release(_ slot: Slot) {
        if let dir = slot.scratch, let uid = slot.uid {
            ScratchDirectory.finish(dir, uid: uid)
            slot.scratch = nil
        }
        guard slot.mountFD >= 0 else { park(slot); return }
        cleaned.lock(); cleaning += 1; cleaned.unlock()
        MountResetter.shared.submit { [self] inThread in
            let failed = slot.resetMounts(inThread: inThread) != nil
            if failed {
                lock.lock(); all.removeAll { $0 === slot }; lock.unlock() // never reuse a slot whose view could not be reset
                slot.destroy()
            } else {
                park(slot)
            }
            cleaned.lock()
            cleaning -= 1
            cleaned.broadcast()
            cleaned.unlock()
        }
    }

    /// Waits until no slot cleanup is pending.
    func waitForCleanup() {
        cleaned.lock()
        while cleaning > 0 { cleaned.wait() }
        cleaned.unlock()
    }

    /// The uids of this pool's slots (root).
    var slotUIDs: [UInt32] {
        lock.lock(); defer { lock.unlock() }
        return all.compactMap { $0.uid }
    }

    /// Every cgroup directory this pool created (for tests and `info`).
    var cgroupDirs: [String] {
        lock.lock(); defer { lock.unlock() }
        return all.flatMap { $0.cgroups?.dirs ?? [] }
    }

    private var drained = false

    /// Waits for pending slot cleanups, then destroys every idle slot (uids, cgroups, namespaces)
    /// and removes the pool's cgroup directory. A slot still running is destroyed when it is
    /// released. Idempotent; later runs make new slots.
    func drain() {
        waitForCleanup()
        lock.lock()
        drained = true
        let slots = idle
        all.removeAll { s in slots.contains { $0 === s } }
        idle = []
        let busy = !all.isEmpty
        lock.unlock()
        for s in slots { s.destroy() }
        if !busy { for base in support.bases { SlotCgroups.rmdirRetrying(base + "/rft/" + name) } }
    }

    /// Returns a slot to the idle list, or destroys it once the pool was drained.
    private func park(_ slot: Slot) {
        lock.lock()
        if drained {
            all.removeAll { $0 === slot }
            lock.unlock()
            slot.destroy()
            return
        }
        idle.append(slot)
        lock.unlock()
    }

    deinit {
        drain()
        // Every slot is idle by now (a run holds the pool): remove any the drain found busy.
        for s in all { s.destroy() }
        for base in support.bases { SlotCgroups.rmdirRetrying(base + "/rft/" + name) }
    }
}

/// A process-wide counter.
final class ManagedAtomicCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
}

/// A few dedicated threads that detach the per-run mounts of released slots, off the callers' path
/// (each detach waits for an RCU grace period in the kernel; concurrent detaches share one). Each
/// thread gets its own filesystem context once (unshare(CLONE_FS)) and then enters each slot's mount
/// namespace with setns: no helper process is created, so a run leaves no child process behind.
final class MountResetter: @unchecked Sendable {
    static let shared = MountResetter()
    private let cond = NSCondition()
    private var jobs: [(Bool) -> Void] = []

    static let threads = 4

    private init() {
        for i in 0..<Self.threads {
            let t = Thread { [self] in loop() }
            t.name = "rft-sandbox-mount-reset-\(i)"
            t.stackSize = 256 << 10
            t.start()
        }
    }

    /// Runs `job` on the reset thread; its argument says whether the thread may enter namespaces itself.
    func submit(_ job: @escaping (Bool) -> Void) {
        cond.lock(); jobs.append(job); cond.signal(); cond.unlock()
    }

    private func loop() {
        let ownFS = rft_thread_unshare_fs() == 0
        while true {
            cond.lock()
            while jobs.isEmpty { cond.wait() }
            let job = jobs.removeFirst()
            cond.unlock()
            job(ownFS)
        }
    }
}

/// No-namespace mode's per-run scratch directory (there is no private tmpfs): a fresh directory
/// `/run/rft-scratch/<uid>-<pid>-<n>`, mode 0700 and owned by the slot uid, in a root-owned 0711
/// parent (others can pass through but not list it). Removed, after every process of the uid was
/// killed, when the slot is released; another run never sees it.
enum ScratchDirectory {
    static let base = "/run/rft-scratch"
    private static let counter = ManagedAtomicCounter()

    static func create(uid: UInt32) throws -> String {
        _ = mkdir("/run", 0o755)
        if mkdir(base, 0o711) != 0 && errno != EEXIST {
            throw SandboxError(layer: "filesystem", message: "mkdir \(base): \(errnoText(errno))")
        }
        var sb = stat()
        guard lstat(base, &sb) == 0, sb.st_mode & S_IFMT == S_IFDIR, sb.st_uid == 0 else {
            throw SandboxError(layer: "filesystem", message: "\(base) must be a directory owned by root (not a symlink)")
        }
        if sb.st_mode & 0o7777 != 0o711 { _ = chmod(base, 0o711) }
        let dir = "\(base)/\(uid)-\(getpid())-\(counter.next())"
        guard mkdir(dir, 0o700) == 0 else {
            throw SandboxError(layer: "filesystem", message: "mkdir \(dir): \(errnoText(errno))")
        }
        guard chown(dir, uid, uid) == 0 else {
            let e = errno
            _ = rmdir(dir)
            throw SandboxError(layer: "filesystem", message: "chown \(dir) to uid \(uid): \(errnoText(e))")
        }
        return dir
    }

    /// Kills whatever of the uid is left (the init normally did it already) and removes `dir`
    /// without following the symlinks the code may have left there.
    static func finish(_ dir: String, uid: UInt32) {
        _ = rft_kill_uid(uid)
        _ = rft_remove_tree(dir)
    }
}
