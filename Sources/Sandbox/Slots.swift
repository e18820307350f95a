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
    let stackA: UnsafeMutableRawPointer
    let stackB: UnsafeMutableRawPointer
    static let stackSize = 64 << 10

    init(index: Int, uid: UInt32?, cgroups: SlotCgroups?, netnsFD: Int32) throws {
        self.index = index
        self.uid = uid
        self.cgroups = cgroups
        self.netnsFD = netnsFD
        let a = mmap(nil, Self.stackSize * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0)
        guard let a, a != MAP_FAILED else { throw SandboxError(layer: "spawn", message: "mmap of the spawn stacks failed") }
        stackA = a
        stackB = a + Self.stackSize
    }

    func destroy() {
        if netnsFD >= 0 { close(netnsFD) }
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
    private static let serial = ManagedAtomicCounter()

    init(policy: SandboxPolicy, privileged: Bool, support: CgroupSupport) {
        self.policy = policy
        self.privileged = privileged
        self.support = support
        self.name = "\(getpid())-\(Self.serial.next())"
    }

    func acquire() throws -> Slot {
        lock.lock()
        if let s = idle.popLast() { lock.unlock(); return s }
        let index = all.count
        lock.unlock()
        let uid = privileged ? try UIDAllocator.shared.acquire() : nil
        do {
            var cg: SlotCgroups? = nil
            if !support.mounts.isEmpty {
                cg = try SlotCgroups(support: support, name: "\(name)/s\(index)-\(uid ?? 0)", policy: policy)
            }
            var netns: Int32 = -1
            if privileged && policy.network == .none {
                let rc = rft_make_netns(&netns)
                if rc < 0 {
                    cg?.remove()
                    throw SandboxError(layer: "network", message: "creating an empty network namespace: \(String(cString: strerror(-rc)))")
                }
            }
            let slot = try Slot(index: index, uid: uid, cgroups: cg, netnsFD: netns)
            lock.lock(); all.append(slot); lock.unlock()
            return slot
        } catch {
            if let uid { UIDAllocator.shared.release(uid) }
            throw error
        }
    }

    func release(_ slot: Slot) {
        lock.lock(); idle.append(slot); lock.unlock()
    }

    /// Every cgroup directory this pool created (for tests and `info`).
    var cgroupDirs: [String] {
        lock.lock(); defer { lock.unlock() }
        return all.flatMap { $0.cgroups?.dirs ?? [] }
    }

    deinit {
        for s in all { s.destroy() }
        for mount in Set(support.mounts.values) { SlotCgroups.rmdirRetrying(mount + "/rft/" + name) }
    }
}

/// A process-wide counter.
final class ManagedAtomicCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
}
