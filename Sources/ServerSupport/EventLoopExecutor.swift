import HummingbirdCore
import Logging
import NIOCore

/// A task executor that runs jobs on one NIO event loop.
///
/// Hummingbird runs each connection's task on Swift's global concurrent executor, so every request
/// hops from the event loop that read it to a pool thread and back to the loop to write the answer
/// (futex and eventfd wake-ups, on a machine whose cores the grader workers need). Pinned to the
/// connection's own loop, reading the request, routing it and writing the answer stay on one thread;
/// only the runtime's work leaves it. Handlers must not block: the runtime's blocking calls already
/// run on other threads.
final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// The executor of the connection whose request is being handled (nil outside a pinned connection).
    @TaskLocal static var current: EventLoopTaskExecutor?
}

/// Wraps a Hummingbird child channel so that each connection is handled on its own event loop.
struct EventLoopPinnedChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        let executor = EventLoopTaskExecutor(value.channel.eventLoop)
        await EventLoopTaskExecutor.$current.withValue(executor) {
            await withTaskExecutorPreference(executor) { await base.handle(value: value, logger: logger) }
        }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with every connection handled on the event loop that serves its socket.
    static func http1PinnedToEventLoop() -> HTTPServerBuilder {
        .init { responder in EventLoopPinnedChannel(base: HTTP1Channel(responder: responder)) }
    }
}
