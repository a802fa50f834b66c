import Foundation

/// Fans "execution X has new events" out to the SSE streams of this process. Fed by NOTIFY, so
/// an event appended through any control API process reaches every subscriber.
public actor EventHub {
    private var subscribers: [UUID: [UUID: AsyncStream<Void>.Continuation]] = [:]

    public init() {}

    /// A stream that yields whenever the execution may have new events.
    public func subscribe(_ execution: UUID) -> (id: UUID, stream: AsyncStream<Void>) {
        let id = UUID()
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        subscribers[execution, default: [:]][id] = continuation
        return (id, stream)
    }

    public func unsubscribe(_ execution: UUID, id: UUID) {
        subscribers[execution]?.removeValue(forKey: id)?.finish()
        if subscribers[execution]?.isEmpty == true { subscribers[execution] = nil }
    }

    public func publish(_ execution: UUID) {
        for continuation in subscribers[execution, default: [:]].values { continuation.yield() }
    }

    /// After a lost notification connection every stream re-reads from the database.
    public func publishAll() {
        for streams in subscribers.values { for continuation in streams.values { continuation.yield() } }
    }
}
