import Foundation
import NIOCore
import NIOPosix

/// The request ran past its deadline.
package struct DeadlineExceeded: Error {}

/// Runs `operation` in its own task and returns its result, or throws `DeadlineExceeded` once
/// `limit` has passed. On the deadline the operation is cancelled but not awaited: a grader that
/// ignores cancellation keeps its slot until it finishes, while the client gets its answer now.
///
/// The operation runs on the connection's event loop (see ``EventLoopTaskExecutor``) and the deadline
/// is a timer on that loop, cancelled when the operation finishes: no extra task or thread wakes up
/// for it.
package func withDeadline<T: Sendable>(_ limit: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    let executor = EventLoopTaskExecutor.current
    let loop = executor?.eventLoop ?? MultiThreadedEventLoopGroup.singleton.next()
    let race = DeadlineRace<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, Error>) in
            race.set(c)
            race.setWork(Task(executorPreference: executor) {
                let result: Result<T, Error>
                do { result = .success(try await operation()) } catch { result = .failure(error) }
                race.finish(with: result)
            })
            race.arm {
                loop.scheduleTask(in: .nanoseconds(limit.nanosecondsClamped)) { race.expire() }
            }
        }
    } onCancel: {
        race.cancelWork()
    }
}

extension Duration {
    /// Whole nanoseconds, clamped to `Int64`.
    var nanosecondsClamped: Int64 {
        let c = components
        let (ns, overflow) = c.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? (c.seconds < 0 ? .min : .max) : ns.addingReportingOverflow(c.attoseconds / 1_000_000_000).partialValue
    }
}

/// The caller's continuation, resumed by whichever comes first: the operation or the timer.
private final class DeadlineRace<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, Error>?
    private var work: Task<Void, Never>?
    private var timer: Scheduled<Void>?
    private var done = false
    private var cancelled = false

    func set(_ c: CheckedContinuation<T, Error>) { lock.withLock { continuation = c } }

    func setWork(_ task: Task<Void, Never>) {
        let cancelNow: Bool = lock.withLock {
            if !done { work = task }
            return cancelled
        }
        if cancelNow { task.cancel() }
    }

    /// Starts the timer unless the operation already finished.
    func arm(_ schedule: () -> Scheduled<Void>) {
        lock.withLock { if !done { timer = schedule() } }
    }

    /// The operation finished: answer with its result and stop the timer.
    func finish(with result: Result<T, Error>) {
        let (c, t): (CheckedContinuation<T, Error>?, Scheduled<Void>?) = lock.withLock {
            done = true
            defer { continuation = nil; timer = nil; work = nil }
            return (continuation, timer)
        }
        t?.cancel()
        c?.resume(with: result)
    }

    /// The deadline passed: answer `DeadlineExceeded` and cancel the operation (without waiting for it).
    func expire() {
        let (c, w): (CheckedContinuation<T, Error>?, Task<Void, Never>?) = lock.withLock {
            done = true
            defer { continuation = nil; timer = nil; work = nil }
            return (continuation, work)
        }
        guard let c else { return }
        c.resume(throwing: DeadlineExceeded())
        w?.cancel()
    }

    /// The caller was cancelled: cancel the operation, whose result then answers it.
    func cancelWork() {
        let w: Task<Void, Never>? = lock.withLock {
            cancelled = true
            return work
        }
        w?.cancel()
    }
}
