import Foundation

/// The request ran past its deadline.
struct DeadlineExceeded: Error {}

/// Runs `operation` in its own task and returns its result, or throws `DeadlineExceeded` once
/// `limit` has passed. On the deadline the operation is cancelled but not awaited: a grader that
/// ignores cancellation keeps its slot until it finishes, while the client gets its answer now.
func withDeadline<T: Sendable>(_ limit: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    let work = Task { try await operation() }
    let once = ResumeOnce<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, Error>) in
            once.set(c)
            let timer = Task {
                try await Task.sleep(for: limit)
                if once.resume(with: .failure(DeadlineExceeded())) { work.cancel() }
            }
            Task {
                let result = await work.result
                timer.cancel()
                once.resume(with: result)
            }
        }
    } onCancel: {
        work.cancel()
    }
}

/// A continuation resumed by whichever of several racers comes first.
private final class ResumeOnce<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, Error>?

    func set(_ c: CheckedContinuation<T, Error>) { lock.withLock { continuation = c } }

    /// Resumes the continuation if nobody has; returns whether this call did.
    @discardableResult
    func resume(with result: Result<T, Error>) -> Bool {
        let c: CheckedContinuation<T, Error>? = lock.withLock {
            defer { continuation = nil }
            return continuation
        }
        c?.resume(with: result)
        return c != nil
    }
}
