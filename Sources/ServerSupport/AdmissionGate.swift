import Foundation

/// Bounds concurrent work: `capacity` holders at once, `queueLimit` waiters, and an immediate
/// `Rejected` beyond that, so no request waits without bound.
package final class AdmissionGate: @unchecked Sendable {
    package struct Rejected: Error {}

    package let capacity: Int
    package let queueLimit: Int
    private let lock = NSLock()
    private var holders = 0
    private var nextTicket = 0
    private var waiters: [(ticket: Int, continuation: CheckedContinuation<Void, Error>)] = []

    package init(capacity: Int, queueLimit: Int) {
        self.capacity = capacity
        self.queueLimit = queueLimit
    }

    /// Requests currently waiting.
    package var queued: Int { lock.withLock { waiters.count } }
    /// Holders currently admitted.
    package var active: Int { lock.withLock { holders } }

    /// Waits for a slot. Throws `Rejected` at once when the queue is full, or `CancellationError`
    /// when the calling task is cancelled while waiting. Every successful call needs one `release()`.
    package func acquire() async throws {
        let ticket: Int? = try lock.withLock {
            if holders < capacity { holders += 1; return nil }
            if waiters.count >= queueLimit { throw Rejected() }
            nextTicket += 1
            return nextTicket
        }
        guard let ticket else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
                let cancelled: Bool = lock.withLock {
                    if Task.isCancelled { return true }
                    waiters.append((ticket, c))
                    return false
                }
                if cancelled { c.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let waiter: CheckedContinuation<Void, Error>? = lock.withLock {
                guard let i = waiters.firstIndex(where: { $0.ticket == ticket }) else { return nil }
                return waiters.remove(at: i).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Frees a slot, handing it straight to the oldest waiter.
    package func release() {
        let next: CheckedContinuation<Void, Error>? = lock.withLock {
            if waiters.isEmpty { holders -= 1; return nil }
            return waiters.removeFirst().continuation
        }
        next?.resume()
    }
}
