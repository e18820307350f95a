import Foundation

/// Whether rft runs inside a container, and the settings that give the sandbox every layer there.
///
/// Docker's and Kubernetes' defaults (no `CAP_SYS_ADMIN`, a seccomp profile that refuses
/// `unshare`/`clone` of new namespaces, AppArmor's `docker-default` refusing `mount`, a read-only
/// `/sys/fs/cgroup`) leave rft no namespace to create, so `rft sandbox info` names them.
struct ContainerDetection: Sendable {
    /// "docker", "podman", "kubernetes", "containerd", "lxc" or "container".
    var runtime: String
    /// What to change, in one sentence.
    var fix: String { "inside a \(runtime) container: give it the namespaces and a writable cgroup (docker run --privileged, or at least --cap-add SYS_ADMIN --security-opt seccomp=unconfined --security-opt apparmor=unconfined with a writable cgroup v2 mount; see docs/SANDBOX.md#containers)" }

    static let current: ContainerDetection? = detect()

    static func detect() -> ContainerDetection? {
        if access("/.dockerenv", F_OK) == 0 { return ContainerDetection(runtime: "docker") }
        if access("/run/.containerenv", F_OK) == 0 { return ContainerDetection(runtime: "podman") }
        if ProcessInfo.processInfo.environment["KUBERNETES_SERVICE_HOST"] != nil { return ContainerDetection(runtime: "kubernetes") }
        if let c = ProcessInfo.processInfo.environment["container"], !c.isEmpty { return ContainerDetection(runtime: c) }
        let cg = readText("/proc/1/cgroup") ?? ""
        for (needle, name) in [("kubepods", "kubernetes"), ("docker", "docker"), ("libpod", "podman"), ("containerd", "containerd"), ("lxc", "lxc")]
        where cg.contains(needle) { return ContainerDetection(runtime: name) }
        return nil
    }
}
