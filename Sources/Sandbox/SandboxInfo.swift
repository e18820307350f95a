import Foundation
/// What `rft sandbox info` reports: each layer, whether it is active, and why not.
public struct SandboxInfo: Codable, Sendable {
    public struct Layer: Codable, Sendable {
        public var name: String
        public var active: Bool
        public var detail: String
    }
    public var uid: UInt32
    public var mode: String
    public var layers: [Layer]

    public var text: String {
        var lines = ["rft sandbox on this machine (uid \(uid), \(mode))"]
        for l in layers { lines.append("  \(l.active ? "[on] " : "[off]") \(l.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(l.detail)") }
        return lines.joined(separator: "\n")
    }

    public static func probe() -> SandboxInfo {
        SandboxInfo(uid: 0, mode: "", layers: [])
    }
}
