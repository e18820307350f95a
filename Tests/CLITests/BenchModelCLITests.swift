import XCTest
import Foundation

/// `rft bench model` as a user runs it (one quick config; throughput is not asserted).
final class BenchModelCLITests: XCTestCase {
    func testJSONReportHasTheDocumentedShape() throws {
        let peer = FileManager.default.temporaryDirectory.appendingPathComponent("rft-peer-\(getpid()).json")
        defer { try? FileManager.default.removeItem(at: peer) }
        try #"{"threads": 2, "conditions": {"torch": "2.15.0"}, "train": {"tokens_per_s": 100}, "generate": {"tokens_per_s": 50}}"#.write(to: peer, atomically: true, encoding: .utf8)
        let result = try RFTBinary.run(["bench", "model", "--json", "--config", "ref-1m",
                                        "--train-steps", "1", "--sample-runs", "1", "--threads", "2", "--peer-json", peer.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(Set(object?.keys.map { $0 } ?? []), ["sgemm_peak_gflops", "threads", "conditions", "configs", "peer"])
        XCTAssertEqual(object?["threads"] as? Int, 2)
        let conditions = object?["conditions"] as? [String: Any]
        XCTAssertEqual(Set(conditions?.keys.map { $0 } ?? []), ["commit", "build", "load_average", "cpus", "started_at", "blas_core", "decode_kernels"])
        XCTAssertTrue(["avx512", "avx2", "generic"].contains(conditions?["decode_kernels"] as? String ?? ""))
        // The kernels in use are named; generic ones only where the CPU has no AVX2 (rft re-executes itself otherwise).
        let core = try XCTUnwrap(conditions?["blas_core"] as? String)
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        if cpuinfo.contains(" avx2 ") && ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil {
            XCTAssertFalse(core.hasPrefix("Prescott") || core.hasPrefix("Nehalem") || core.hasPrefix("Core2"), core)
        }
        XCTAssertEqual((object?["peer"] as? [String: Any])?["torch"] as? String, "2.15.0")
        let configs = try XCTUnwrap(object?["configs"] as? [[String: Any]])
        XCTAssertEqual(configs.count, 1)
        XCTAssertEqual(Set(configs[0].keys), ["name", "params", "train_tokens_per_s", "train_gflops", "peak_fraction",
                                              "sampling_tokens_per_s", "peak_rss_mib", "train_tokens_per_s_wall",
                                              "train_tokens_per_s_all", "sampling_tokens_per_s_wall",
                                              "sampling_tokens_per_s_all", "peak_fraction_all", "peer_train_tokens_per_s",
                                              "peer_sampling_tokens_per_s", "train_vs_peer", "sampling_vs_peer"])
        XCTAssertEqual(configs[0]["peer_train_tokens_per_s"] as? Double, 100)
        let all = try XCTUnwrap(configs[0]["train_tokens_per_s_all"] as? Double)
        XCTAssertEqual(try XCTUnwrap(configs[0]["train_vs_peer"] as? Double), all / 100, accuracy: 0.001 + all / 100 * 0.001)
        XCTAssertEqual(configs[0]["name"] as? String, "ref-1m")
        XCTAssertEqual(configs[0]["params"] as? Int, 1_116_288)
        for key in ["train_tokens_per_s", "sampling_tokens_per_s", "peak_rss_mib", "peak_fraction",
                    "train_tokens_per_s_all", "sampling_tokens_per_s_all", "peak_fraction_all"] {
            XCTAssertGreaterThan(configs[0][key] as? Double ?? 0, 0, key)
        }
    }

    func testUnknownConfigIsRejected() throws {
        let result = try RFTBinary.run(["bench", "model", "--config", "gpt-5"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("unknown config 'gpt-5'"), result.stderr)
    }
}
