import Foundation
import GraderRuntime
import Hummingbird
import JSON
import Logging
import ServerSupport

/// The reward endpoints: Bedrock batch invoke, OpenRLHF `/get_reward`, grader listing, health, metrics.
struct RewardRoutes: Sendable {
    let scorer: any Scorer
    let configuration: ServerConfiguration
    let openRLHF: OpenRLHFConfiguration
    let metrics: ServerMetrics
    let gate: AdmissionGate
    let logger: Logger

    func register(on router: Router<BasicRequestContext>) {
        router.get("/healthz") { _, _ in Response.json(["status": "ok"]) }
        router.get("/metrics") { _, _ in
            Response.text(metrics.render(admissionQueued: gate.queued, admissionActive: gate.active, runtime: scorer.stats()),
                          contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get("/v1/graders") { _, _ in
            Response.json(["graders": .array(scorer.graders.map { ["name": .string($0.name), "manifest": $0.manifest] })])
        }
        router.post("/v1/graders/{name}/invoke") { request, context in
            let name = context.parameters.get("name") ?? ""
            return await measured(endpoint: "invoke", grader: name) { try await invoke(request, grader: name) }
        }
        router.post("/get_reward") { request, _ in
            let name = openRLHF.grader ?? scorer.graders.first?.name ?? ""
            return await measured(endpoint: "get_reward", grader: name) { try await getReward(request, grader: name) }
        }
    }

    /// Runs a handler, turning thrown `APIError`s into their responses and recording metrics.
    private func measured(endpoint: String, grader: String, _ body: () async throws -> Response) async -> Response {
        let start = ContinuousClock.now
        metrics.requestStarted()
        var response: Response
        do {
            response = try await body()
        } catch let error as APIError {
            response = error.response
        } catch {
            logger.error("unexpected error", metadata: ["error": "\(error)", "grader": "\(grader)"])
            response = APIError(status: .internalServerError, type: "internal", message: "\(error)").response
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let known = scorer.graders.contains { $0.name == grader }
        metrics.requestFinished(endpoint: endpoint, grader: known ? grader : "", status: Int(response.status.code), seconds: seconds)
        return response
    }

    private func requireGrader(_ name: String) throws {
        guard scorer.graders.contains(where: { $0.name == name }) else {
            let known = scorer.graders.map(\.name).joined(separator: ", ")
            throw APIError.notFound("unknown grader \"\(name)\" (served: \(known.isEmpty ? "none" : known))")
        }
    }

    // MARK: POST /v1/graders/{name}/invoke

    private func invoke(_ request: Request, grader: String) async throws -> Response {
        try requireGrader(grader)
        var request = request
        let buffer = try await request.collectBody(limit: configuration.maxBodyBytes)
        // The common shape (unique string ids, canonical spelling) is split into samples without
        // building JSON trees; anything else, errors included, takes the general path.
        let samples = try buffer.withUnsafeReadableBytes { try Sample.scanList($0) ?? Self.validateSamples(Request.parseJSON($0)) }
        try checkBatchSize(samples.count)
        if samples.isEmpty { return .json(.array([])) }
        // The answer is written straight to bytes from the runtime's typed results.
        let outputs = try await admitted(grader: grader) { [scorer] in try await EncodedOutputs(scorer.score(samples, grader: grader)) }
        try record(grader: grader, results: outputs.results, count: outputs.count)
        return Response(status: .ok, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: outputs.json)))
    }

    /// The body must be a list of sample objects with unique ids (a string or a number; a sample
    /// without one gets its index, as `rft grader invoke` does).
    static func validateSamples(_ body: JSONValue) throws -> [Sample] {
        guard let list = body.arrayValue else {
            throw APIError.badRequest("expected a JSON array of samples at the top level, got \(body.typeName)")
        }
        var seen = Set<String>()
        var samples: [Sample] = []
        samples.reserveCapacity(list.count)
        for (i, item) in list.enumerated() {
            guard let record = item.objectValue else { throw APIError.badRequest("[\(i)]: expected a sample object, got \(item.typeName)") }
            switch record["id"] {
            case nil, .string?, .number?: break
            case let other?: throw APIError.badRequest("[\(i)].id: expected a string or a number, got \(other.typeName)")
            }
            let sample = Sample(record: record, defaultID: String(i))
            if !seen.insert(sample.id).inserted { throw APIError.badRequest("[\(i)].id: duplicate id \"\(sample.id)\"") }
            samples.append(sample)
        }
        return samples
    }

    private func checkBatchSize(_ n: Int) throws {
        if n > configuration.maxBatchSize {
            throw APIError.tooLarge("batch of \(n) samples exceeds the maximum batch size of \(configuration.maxBatchSize)")
        }
    }

    /// Admission and deadline, shared by both protocols: `body` runs once a scoring slot is free.
    private func admitted<T: Sendable>(grader: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        do {
            return try await withDeadline(configuration.requestDeadline) { [gate] in
                try await gate.acquire()
                defer { gate.release() }
                return try await body()
            }
        } catch is AdmissionGate.Rejected {
            throw APIError.throttled(retryAfter: configuration.retryAfterSeconds,
                                     "the queue is full (\(gate.queueLimit) batches waiting); retry after \(configuration.retryAfterSeconds) s")
        } catch is DeadlineExceeded {
            throw APIError.deadline("the request ran past its deadline of \(configuration.requestDeadline)")
        } catch ScorerError.unknownGrader(let name) {
            throw APIError.notFound("unknown grader \"\(name)\"")
        }
    }

    /// Counts per-sample results; a batch the runtime throttled as a whole becomes 429.
    private func record(grader: String, results: [String: Int], count: Int) throws {
        metrics.samplesFinished(grader: grader, results: results)
        // The runtime's own queue was full for every sample: tell the client to come back.
        if results["throttled"] == count {
            throw APIError.throttled(retryAfter: configuration.retryAfterSeconds, "grader \"\(grader)\" is throttled; retry after \(configuration.retryAfterSeconds) s")
        }
    }

    /// Scores through admission and deadline, returning the output entries (`/get_reward`).
    private func score(grader: String, samples: [Sample]) async throws -> [JSONValue] {
        if samples.isEmpty { return [] }
        let results = try await admitted(grader: grader) { [scorer] in try await scorer.score(samples, grader: grader) }
        try record(grader: grader, results: EncodedOutputs.results(of: results.map(\.output)), count: results.count)
        return results.map(\.json)
    }

    // MARK: POST /get_reward

    private func getReward(_ request: Request, grader: String) async throws -> Response {
        try requireGrader(grader)
        var request = request
        let body = try await request.jsonBody(limit: configuration.maxBodyBytes)
        let adapter = OpenRLHFAdapter(configuration: openRLHF)
        let batch = try adapter.batch(from: body)
        try checkBatchSize(batch.slots.count)
        let invalid = batch.slots.count - batch.samples.count
        if invalid > 0 { metrics.samplesFinished(grader: grader, results: ["invalid_input": invalid]) }
        let outputs = try await score(grader: grader, samples: batch.samples)
        return .json(adapter.response(batch: batch, outputs: outputs))
    }
}
