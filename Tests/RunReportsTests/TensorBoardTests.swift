import Foundation
import XCTest
@testable import RunReports
import JSON

final class TensorBoardTests: XCTestCase {
    func testCRC32CKnownVectors() {
        // RFC 3720 / iSCSI test vectors.
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum(Array(0..<32 as Range<UInt8>)), 0x46DD_794E)
        let crc: UInt32 = 0xE306_9283
        XCTAssertEqual(CRC32C.masked(Array("123456789".utf8)), ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8)
    }

    func testTFRecordRoundTripAndCorruptionIsDetected() throws {
        let payloads: [[UInt8]] = [[], [1, 2, 3], Array(repeating: 7, count: 300)]
        let stream = payloads.flatMap(TFRecord.frame)
        XCTAssertEqual(try TFRecord.records(in: stream), payloads)
        XCTAssertEqual(stream.count, payloads.map { $0.count + 16 }.reduce(0, +))

        var badData = stream
        badData[16 + 12 + 1] ^= 0x01  // second record, a payload byte
        XCTAssertThrowsError(try TFRecord.records(in: badData)) { XCTAssertEqual($0 as? TFRecordError, .badDataCRC(offset: 16)) }
        var badLength = stream
        badLength[16] ^= 0x02  // second record, a length byte
        XCTAssertThrowsError(try TFRecord.records(in: badLength)) { XCTAssertEqual($0 as? TFRecordError, .badLengthCRC(offset: 16)) }
        XCTAssertThrowsError(try TFRecord.records(in: Array(stream.dropLast(5)))) {
            XCTAssertEqual($0 as? TFRecordError, .truncated(offset: 35))
        }
    }

    func testEventEncodingMatchesHandComputedBytes() {
        let e = TensorBoardEvent(wallTime: 1.5, step: 3, scalars: [TensorBoardScalar(tag: "r", value: 0.5)])
        // 09 <1.5 as double LE> 10 03 2a 0a (0a 08 (0a 01 'r' 15 <0.5 as float LE>))
        XCTAssertEqual(e.encoded(), [0x09, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F, 0x10, 0x03,
                                     0x2A, 0x0A, 0x0A, 0x08, 0x0A, 0x01, 0x72, 0x15, 0, 0, 0, 0x3F])
        XCTAssertEqual(try TensorBoardEvent(decoding: e.encoded()[...]), e)
    }

    /// Writes `steps` steps of the given metrics and returns the directory.
    private func writeRun(steps: Int, tags: [String]) throws -> (URL, [Int: [String: Double]]) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rft-tb-\(UUID().uuidString)")
        let writer = try TensorBoardWriter(directory: dir, wallTime: 1_700_000_000)
        var written: [Int: [String: Double]] = [:]
        var rng = SplitMix(seed: 3)
        for step in 1...steps {
            var scalars: [String: Double] = [:]
            for tag in tags { scalars[tag] = rng.normal() * pow(10, Double(rng.next() % 5) - 2) }
            written[step] = scalars
            writer.add(scalars: scalars, step: step, wallTime: 1_700_000_000 + Double(step))
            if step % 7 == 0 { writer.flush() }
        }
        writer.close()
        return (dir, written)
    }

    static let tags = ["reward", "reward_std", "rewards/accuracy/mean", "rewards/format/mean", "kl", "entropy",
                       "completions/mean_length", "grader/latency_ms_p99", "grader/errors/timeout", "val/reward", "val/pass@4"]

    func testWriterFilesReadBackWithEveryCRCAndScalar() throws {
        let (dir, written) = try writeRun(steps: 40, tags: Self.tags)
        let files = TensorBoardReader.eventFiles(in: dir)
        XCTAssertEqual(files.count, 1)
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? ""
        XCTAssertTrue(files[0].lastPathComponent.hasPrefix("events.out.tfevents.1700000000."), files[0].lastPathComponent)
        XCTAssertTrue(files[0].lastPathComponent.contains(host), files[0].lastPathComponent)

        let events = try TensorBoardReader.events(in: files[0])  // verifies every CRC
        XCTAssertEqual(events.count, 41)
        XCTAssertEqual(events[0].fileVersion, "brain.Event:2")
        XCTAssertEqual(events[0].wallTime, 1_700_000_000)
        for event in events.dropFirst() {
            XCTAssertNil(event.fileVersion)
            XCTAssertEqual(event.wallTime, 1_700_000_000 + Double(event.step))
            let expected = written[Int(event.step)]!
            XCTAssertEqual(event.scalars.map(\.tag), expected.keys.sorted())
            for s in event.scalars { XCTAssertEqual(s.value, Float(expected[s.tag]!)) }
        }
        let byTag = try TensorBoardReader.scalars(inDirectory: dir)
        XCTAssertEqual(Set(byTag.keys), Set(Self.tags))
        XCTAssertEqual(byTag["kl"]?.map(\.step), Array(1...40))
    }

    func testWritersStartedTheSameSecondUseDistinctFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rft-tb-\(UUID().uuidString)")
        let a = try TensorBoardWriter(directory: dir, wallTime: 1_700_000_000)
        let b = try TensorBoardWriter(directory: dir, wallTime: 1_700_000_000)
        XCTAssertNotEqual(a.fileURL, b.fileURL)
        a.add(scalars: ["x": 1], step: 1); b.add(scalars: ["x": 2], step: 2)
        a.close(); b.close()
        a.add(scalars: ["x": 3], step: 3)  // ignored after close
        XCTAssertEqual(try TensorBoardReader.scalars(inDirectory: dir)["x"]?.map(\.value).sorted(), [1, 2])
    }

    func testUnwritableDirectoryIsATypedError() {
        XCTAssertThrowsError(try TensorBoardWriter(directory: URL(fileURLWithPath: "/proc/rft-cannot-write"))) {
            XCTAssertTrue("\($0)".contains("/proc/rft-cannot-write"), "\($0)")
        }
    }

    /// The real TensorBoard reader (PyPI `tensorboard`) loads the file and sees every scalar.
    func testTensorBoardsOwnReaderSeesEveryScalar() throws {
        guard let python = Self.tensorboardPython() else {
            throw XCTSkip("tensorboard Python package not importable: set RFT_TB_PYTHON to an interpreter that has it "
                          + "(python3 -m venv /tmp/tb && /tmp/tb/bin/pip install tensorboard)")
        }
        let (dir, written) = try writeRun(steps: 25, tags: Self.tags)
        let script = """
        import json, sys
        from tensorboard.backend.event_processing import event_accumulator as ea
        acc = ea.EventAccumulator(sys.argv[1], size_guidance={ea.SCALARS: 0})
        acc.Reload()
        out = {t: [[e.step, e.value] for e in acc.Scalars(t)] for t in acc.Tags()["scalars"]}
        print(json.dumps(out))
        """
        let result = try TestProcess.run(python, ["-c", script, dir.path], timeout: 120)
        XCTAssertEqual(result.status, 0, result.stderr)
        guard case .object(let tags)? = try? JSONValue.parse(result.stdout, allowNonFinite: true) else {
            return XCTFail("unexpected output: \(result.stdout) \(result.stderr)")
        }
        XCTAssertEqual(Set(tags.map(\.key)), Set(Self.tags))
        for (tag, points) in tags {
            let pairs = points.arrayValue ?? []
            XCTAssertEqual(pairs.count, 25, tag)
            for p in pairs {
                let step = Int(p.arrayValue![0].doubleValue!), value = p.arrayValue![1].doubleValue!
                XCTAssertEqual(Float(value), Float(written[step]![tag]!), "\(tag) at step \(step)")
            }
        }
    }

    static func tensorboardPython() -> String? {
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["RFT_TB_PYTHON"], !env.isEmpty { candidates.append(env) }
        candidates.append("python3")
        for c in candidates {
            guard let path = TestProcess.which(c),
                  let r = try? TestProcess.run(path, ["-c", "import tensorboard"], timeout: 60), r.status == 0 else { continue }
            return path
        }
        return nil
    }
}
