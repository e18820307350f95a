import CSpawn
import Glibc

/// What the spawn shim reported before the target started running.
enum LaunchFailure: Error {
    /// The program could not be executed (`exec_error`).
    case exec(String)
    /// A sandbox layer failed (`sandbox_error`).
    case sandbox(SandboxError)

    var outcome: Outcome {
        switch self {
        case .exec(let m): return Outcome(status: .exec_error, layer: "exec", message: m)
        case .sandbox(let e): return .sandboxError(e)
        }
    }

    var error: SandboxError {
        switch self {
        case .exec(let m): return SandboxError(layer: "exec", message: m)
        case .sandbox(let e): return e
        }
    }
}

/// A started sandbox: the init process (A) and the parent's ends of its pipes.
struct Launched {
    var pid: Int32
    var pidfd: Int32
    var control: Int32
    var listener: Int32
    var stdinW: Int32
    var stdoutR: Int32
    var stderrR: Int32
    var requestW: Int32
    var responseR: Int32
    /// A pre-exec failure reported by the shim (the target never ran).
    var failure: LaunchFailure?
    /// The init's exit report, when it was already queued at launch (very short programs).
    var exitReport: rft_msg?
    /// What stops the sandbox: SIGKILL to the init of its PID namespace, or without namespaces
    /// SIGUSR1, on which the init kills every process of the slot uid before it reports.
    var killSignal: Int32 = SIGKILL
}

/// The per-policy, spawn-independent part of the shim's configuration, built once.
final class SpawnTemplate: @unchecked Sendable {
    let arena = CArena()
    let policy: SandboxPolicy
    let privileged: Bool
    let isolation: IsolationMode
    let filter: SyscallFilter
    let view: FilesystemView
    var cloneFlags: UInt
    let fsOps: UnsafeMutablePointer<rft_fs_op>
    let nFsOps: Int32
    /// The ops the shim runs per spawn (per-run ops with a template, the whole view without).
    let activeOps: [FilesystemView.Op]
    /// The template mount namespace (root), or -1.
    let mountTemplateFD: Int32
    let newRoot: UnsafePointer<CChar>
    let uidMap: UnsafePointer<CChar>?
    let gidMap: UnsafePointer<CChar>?
    let hostname: UnsafePointer<CChar>?
    let workdir: UnsafePointer<CChar>
    let filterProgram: UnsafeMutablePointer<UInt64>
    let rlimits: [rft_rlimit]

    init(policy: SandboxPolicy, privileged: Bool, hasMemoryCgroup: Bool, isolation: IsolationMode) throws {
        self.policy = policy
        self.privileged = privileged
        self.isolation = isolation
        let namespaced = isolation == .namespaces
        filter = try SyscallFilter.compile(network: policy.network)
        let rootDir = privileged ? "/run/rft/root" : "/tmp/rft-root-\(geteuid())"
        if namespaced {
            _ = mkdir(privileged ? "/run/rft" : "/tmp", 0o755)
            if mkdir(rootDir, 0o755) != 0 && errno != EEXIST {
                throw SandboxError(layer: "filesystem", message: "mkdir \(rootDir): \(errnoText(errno))")
            }
        }
        view = try FilesystemView.make(policy: policy)
        var flags = namespaced ? UInt(RFT_CLONE_NEWPID | RFT_CLONE_NEWIPC | RFT_CLONE_NEWUTS) : 0
        let a = arena
        func cOps(_ ops: [FilesystemView.Op]) -> UnsafeMutablePointer<rft_fs_op> {
            let p = a.array(of: rft_fs_op.self, count: ops.count)
            for (i, op) in ops.enumerated() {
                p[i] = rft_fs_op(kind: op.kind, op_flags: op.flags, mount_flags: op.mountFlags, mode: op.mode,
                                 src: a.optionalString(op.src), dst: UnsafePointer(a.string(op.dst)),
                                 data: a.optionalString(op.data))
            }
            return p
        }
        if !namespaced {
            // No mount namespace: no view to build; each run gets a scratch directory instead.
            mountTemplateFD = -1
            activeOps = []
        } else if privileged {
            // Build the static view once into a template mount namespace; each run copies it.
            let statics = view.staticOps.map { $0.resolved(root: rootDir) }
            var fd: Int32 = -1, failed: Int32 = -1
            let rc = rft_make_mount_template(cOps(statics), Int32(statics.count), rootDir, &fd, &failed)
            if rc < 0 {
                let what = failed >= 0 ? "\(statics[Int(failed)].src ?? "") -> \(statics[Int(failed)].dst)" : "namespace or pivot_root"
                throw SandboxError(layer: "filesystem", message: "building the template mount namespace (\(what)): \(errnoText(-rc))")
            }
            mountTemplateFD = fd
            activeOps = view.runOps
        } else {
            flags |= UInt(RFT_CLONE_NEWUSER | RFT_CLONE_NEWNS)
            mountTemplateFD = -1
            activeOps = view.allOps(root: rootDir)
        }
        cloneFlags = flags
        fsOps = cOps(activeOps)
        nFsOps = Int32(activeOps.count)
        newRoot = UnsafePointer(a.string(rootDir))
        if privileged {
            uidMap = nil; gidMap = nil
        } else {
            uidMap = UnsafePointer(a.string("\(geteuid()) \(geteuid()) 1\n"))
            gidMap = UnsafePointer(a.string("\(getegid()) \(getegid()) 1\n"))
        }
        hostname = namespaced ? UnsafePointer(a.string("sandbox")) : nil // never the container's own hostname
        workdir = UnsafePointer(a.string("/tmp"))
        filterProgram = a.copy(filter.program)

        var limits: [rft_rlimit] = [rft_rlimit(resource: RFT_RLIMIT_CORE, soft: 0, hard: 0)]
        func add(_ r: Int32, _ soft: UInt64, _ hard: UInt64? = nil) {
            limits.append(rft_rlimit(resource: r, soft: soft, hard: hard ?? soft))
        }
        if let ms = policy.cpuTimeMs {
            let s = UInt64((ms + 999) / 1000)
            add(RFT_RLIMIT_CPU, s, s + 1)
        }
        if let mb = policy.maxFileSizeMB { add(RFT_RLIMIT_FSIZE, UInt64(mb) << 20) }
        if let n = policy.maxOpenFiles { add(RFT_RLIMIT_NOFILE, UInt64(n)) }
        if let n = policy.maxPids { add(RFT_RLIMIT_NPROC, UInt64(n)) }
        if let mb = policy.memoryMB, !hasMemoryCgroup { add(RFT_RLIMIT_AS, UInt64(mb) << 20) }
        rlimits = limits
    }

    deinit { if mountTemplateFD >= 0 { close(mountTemplateFD) } }

    /// Test hook: makes one layer's setup fail for real inside the shim (with EBADF).
    enum Fault { case network, cgroup, filesystem }
    var injectedFault: Fault?

    /// Starts a sandboxed process in `slot`. Blocks until the target has exec'd or failed.
    func launch(argv: [String], environment: [String: String], slot: Slot, channels: Bool) throws -> Launched {
        guard let program = argv.first, !program.isEmpty else {
            throw LaunchFailure.exec("empty command")
        }
        let a = CArena()
        var env = policy.environment
        for name in policy.allowEnv { if let v = getenv(name) { env[name] = String(cString: v) } }
        var scratch: String?
        if isolation == .noNamespaces, let uid = slot.uid {
            // No private /tmp: a fresh directory of the slot uid is the working directory, $HOME and $TMPDIR.
            do { scratch = try ScratchDirectory.create(uid: uid) } catch let e as SandboxError { throw LaunchFailure.sandbox(e) }
            slot.scratch = scratch
            env["HOME"] = scratch
            env["TMPDIR"] = scratch
        }
        for (k, v) in environment { env[k] = v }
        var candidates: [String]
        if program.contains("/") {
            candidates = [program]
        } else {
            let path = env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
            candidates = path.split(separator: ":").map { $0.isEmpty ? program : "\($0)/\(program)" }
        }

        // Pipes: the parent's ends are close-on-exec and non-blocking (except stdin for spawn's users).
        var fds: [Int32] = []
        var parentEnds: [Int32] = []
        var childEnds: [Int32] = []
        func pipePair() throws -> (r: Int32, w: Int32) {
            var p: [Int32] = [0, 0]
            let rc = rft_pipe_cloexec(&p)
            guard rc == 0 else {
                throw LaunchFailure.sandbox(SandboxError(layer: "spawn", message: "pipe2: \(errnoText(-rc))"))
            }
            return (p[0], p[1])
        }
        defer { for fd in childEnds { close(fd) } }
        var closeOnError: [Int32] = []
        do {
            let i = try pipePair(), o = try pipePair(), e = try pipePair()
            childEnds += [i.r, o.w, e.w]
            parentEnds += [i.w, o.r, e.r]
            fds = [i.r, o.w, e.w]
            var requestW: Int32 = -1, responseR: Int32 = -1
            if channels {
                let req = try pipePair(), resp = try pipePair()
                childEnds += [req.r, resp.w]
                parentEnds += [req.w, resp.r]
                fds += [req.r, resp.w]
                requestW = req.w; responseR = resp.r
            }
            closeOnError = parentEnds
            _ = fcntl(o.r, F_SETFL, O_NONBLOCK)
            _ = fcntl(e.r, F_SETFL, O_NONBLOCK)

            var sv: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &sv) == 0 else {
                throw LaunchFailure.sandbox(SandboxError(layer: "spawn", message: "socketpair: \(errnoText(errno))"))
            }
            childEnds.append(sv[1])
            closeOnError.append(sv[0])
            // The exec pipe: its write end is close-on-exec in the target; EOF means exec (or death).
            let execPipe = try pipePair()
            childEnds.append(execPipe.w)
            defer { close(execPipe.r) }

            let execPaths = a.array(of: UnsafePointer<CChar>?.self, count: candidates.count)
            for (i, c) in candidates.enumerated() { execPaths[i] = UnsafePointer(a.string(c)) }
            let cArgv = a.stringArray(argv)
            let cEnv = a.stringArray(env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
            let cFds = a.copy(fds)
            let cgFDs = slot.cgroups?.procsFDs ?? []
            let cCg = a.copy(cgFDs)
            let cLimits = a.copy(rlimits)
            var flags = cloneFlags
            if policy.network == .none && slot.netnsFD < 0 && isolation == .namespaces { flags |= UInt(RFT_CLONE_NEWNET) }
            var cfg = rft_spawn_config()
            cfg.exec_paths = UnsafePointer(execPaths)
            cfg.n_exec_paths = Int32(candidates.count)
            cfg.argv = UnsafePointer(cArgv)
            cfg.envp = UnsafePointer(cEnv)
            cfg.fds = UnsafePointer(cFds)
            cfg.n_fds = Int32(fds.count)
            cfg.clone_flags = flags
            cfg.netns_fd = policy.network == .none ? slot.netnsFD : -1
            cfg.userns = privileged ? 0 : 1
            cfg.uid_map = uidMap
            cfg.gid_map = gidMap
            cfg.hostname = hostname
            cfg.new_root = slot.mountFD >= 0 || isolation == .noNamespaces ? nil : newRoot
            cfg.mnt_template_fd = slot.mountFD
            cfg.mnt_unshare = 0
            cfg.fs_ops = UnsafePointer(fsOps)
            cfg.n_fs_ops = nFsOps
            cfg.cgroup_fds = UnsafePointer(cCg)
            cfg.n_cgroup_fds = Int32(cgFDs.count)
            cfg.rlimits = UnsafePointer(cLimits)
            cfg.n_rlimits = Int32(rlimits.count)
            cfg.drop_ids = slot.uid == nil ? 0 : 1
            cfg.uid = slot.uid ?? 0
            cfg.gid = slot.uid ?? 0
            cfg.workdir = scratch.map { UnsafePointer(a.string($0)) } ?? workdir
            cfg.kill_uid_mode = scratch == nil ? 0 : 1
            cfg.kill_uid = slot.uid ?? 0
            cfg.no_new_privs = 1
            cfg.filter = UnsafeRawPointer(filterProgram)
            cfg.filter_len = UInt16(filter.program.count)
            cfg.filter_flags = filter.usesListener ? RFT_SECCOMP_FLAG_NEW_LISTENER : 0
            cfg.control_fd = sv[1]
            cfg.exec_fd = execPipe.w
            cfg.stack_a = slot.stackA
            cfg.stack_a_size = Slot.stackSize
            cfg.stack_b = slot.stackB
            cfg.stack_b_size = Slot.stackSize

            let badFD: Int32 = 1_000_000
            switch injectedFault {
            case .network?: cfg.netns_fd = badFD
            case .cgroup?: cfg.cgroup_fds = UnsafePointer(a.copy([badFD])); cfg.n_cgroup_fds = 1
            case .filesystem?: cfg.mnt_template_fd = badFD; cfg.new_root = nil
            case nil: break
            }
            slot.cgroups?.beforeRun()
            var pid: pid_t = 0, pidfd: Int32 = -1
            let rc = withUnsafePointer(to: &cfg) { rft_spawn($0, &pid, &pidfd) }
            if rc < 0 {
                let layer = (rc == -EPERM || rc == -EINVAL || rc == -ENOSPC || rc == -EUSERS) ? "namespaces" : "spawn"
                throw LaunchFailure.sandbox(SandboxError(layer: layer, message: "clone of the sandbox init failed: \(errnoText(-rc))"))
            }
            // The child's ends are closed by the deferred block; now wait for exec (or a failure).
            for fd in childEnds { close(fd) }
            childEnds = []
            var launched = Launched(pid: pid, pidfd: pidfd, control: sv[0], listener: -1, stdinW: i.w, stdoutR: o.r,
                                    stderrR: e.r, requestW: requestW, responseR: responseR, failure: nil)
            if isolation == .noNamespaces { launched.killSignal = SIGUSR1 }
            var byte: UInt8 = 0
            while read(execPipe.r, &byte, 1) < 0 && errno == EINTR {}
            // Exec happened (or the setup failed): the shim's reports are queued on the control socket.
            var gotFailure = false
            while true {
                var p = pollfd(fd: sv[0], events: Int16(POLLIN), revents: 0)
                if poll(&p, 1, 0) <= 0 { break }
                var msg = rft_msg()
                var passed: Int32 = -1
                let n = rft_recv_msg(sv[0], &msg, &passed)
                if n <= 0 { break }
                if msg.kind == RFT_MSG_LISTENER.rawValue, passed >= 0 { launched.listener = passed; continue }
                if passed >= 0 { close(passed) }
                if msg.kind == RFT_MSG_EXIT.rawValue { launched.exitReport = msg; break }
                if msg.kind == RFT_MSG_FAIL.rawValue, !gotFailure {
                    gotFailure = true
                    launched.failure = Self.failure(stage: msg.stage, detail: msg.detail, err: msg.err,
                                                    program: program, candidates: candidates, ops: activeOps)
                }
            }
            _ = a // the arena lives until the target has exec'd
            return launched
        } catch {
            for fd in closeOnError { close(fd) }
            throw error
        }
    }

    static func failure(stage: Int32, detail: Int32, err: Int32, program: String, candidates: [String],
                        ops: [FilesystemView.Op]) -> LaunchFailure {
        let why = errnoText(err)
        func sandbox(_ layer: String, _ what: String) -> LaunchFailure {
            .sandbox(SandboxError(layer: layer, message: "\(what): \(why)"))
        }
        switch UInt32(stage) {
        case RFT_STAGE_EXEC.rawValue:
            var m: String
            switch err {
            case ENOENT:
                if let found = candidates.first(where: { access($0, F_OK) == 0 }) {
                    m = "\(found): bad interpreter (its #! line names a program that does not exist in the sandbox)"
                } else if program.contains("/") {
                    m = "\(program): no such file in the sandbox"
                } else {
                    m = "\(program): command not found in the sandbox's PATH"
                }
            case EACCES: m = "\(program): permission denied (not executable, or on a noexec mount)"
            case ENOEXEC: m = "\(program): not an executable for this machine (wrong architecture, or a script without #!)"
            default: m = "\(program): execve failed: \(why)"
            }
            return .exec(m)
        case RFT_STAGE_USERNS_SETGROUPS.rawValue, RFT_STAGE_USERNS_UIDMAP.rawValue, RFT_STAGE_USERNS_GIDMAP.rawValue:
            return sandbox("namespaces", "user namespace id mapping")
        case RFT_STAGE_SETNS_NET.rawValue: return sandbox("network", "joining the prepared network namespace")
        case RFT_STAGE_HOSTNAME.rawValue: return sandbox("namespaces", "sethostname in the UTS namespace")
        case RFT_STAGE_MOUNT_PRIVATE.rawValue: return sandbox("filesystem", "making mounts private")
        case RFT_STAGE_FS_OP.rawValue:
            let op = detail >= 0 && Int(detail) < ops.count ? ops[Int(detail)] : nil
            return sandbox("filesystem", "mount step \(detail) (\(op.map { "\($0.src ?? "") -> \($0.dst)" } ?? "?"))")
        case RFT_STAGE_PIVOT_ROOT.rawValue: return sandbox("filesystem", "pivot_root")
        case RFT_STAGE_CGROUP.rawValue: return sandbox("cgroup", "joining cgroup \(detail)")
        case RFT_STAGE_RLIMIT.rawValue: return sandbox("rlimit", "setrlimit(resource \(detail))")
        case RFT_STAGE_SETGROUPS.rawValue, RFT_STAGE_SETGID.rawValue, RFT_STAGE_SETUID.rawValue:
            return sandbox("identity", "dropping to the sandbox uid")
        case RFT_STAGE_CHDIR.rawValue: return sandbox("filesystem", "chdir to the scratch directory")
        case RFT_STAGE_NO_NEW_PRIVS.rawValue: return sandbox("seccomp", "PR_SET_NO_NEW_PRIVS")
        case RFT_STAGE_SECCOMP.rawValue: return sandbox("seccomp", "loading the syscall filter")
        case RFT_STAGE_LISTENER.rawValue: return sandbox("seccomp", "passing the seccomp listener")
        case RFT_STAGE_FDS.rawValue: return sandbox("spawn", "setting up file descriptors")
        default: return sandbox("spawn", "pre-exec stage \(stage)")
        }
    }
}
