import BosunControl
import Foundation
import Synchronization
import Testing

/// The credential cache never outlives a revocation, even one that lands while the credential
/// is being looked up. The look-up is a stand-in that pauses where PostgreSQL's reply would be
/// in flight, so the race runs the same way every time.
@Suite struct CredentialCacheTests {
    /// A worker token whose row says `status`; each look-up reports that it started, and the
    /// first one waits for `release` before answering with what it read.
    final class PausingStore: Sendable {
        let status = Mutex("active")
        let lookUps = Mutex(0)
        let principal = Principal(organizationId: UUID(), kind: .worker(id: UUID(), queueId: UUID()))
        let started: AsyncStream<Void>
        let startedContinuation: AsyncStream<Void>.Continuation
        let release: AsyncStream<Void>
        let releaseContinuation: AsyncStream<Void>.Continuation

        init() {
            (started, startedContinuation) = AsyncStream.makeStream()
            (release, releaseContinuation) = AsyncStream.makeStream()
        }

        var lookUp: CredentialLookUp {
            CredentialLookUp(
                apiKey: { _ in nil },
                workerToken: { [self] _ in
                    let read = status.withLock { $0 }
                    let number = lookUps.withLock { count in
                        count += 1
                        return count
                    }
                    startedContinuation.yield()
                    if number == 1 {
                        for await _ in release { break }
                    }
                    return (principal, Date().addingTimeInterval(3600), read)
                })
        }
    }

    func authenticator(_ store: PausingStore) async throws -> Authenticator {
        let configuration = ControlConfiguration(databaseURL: try DatabaseURL("postgres://bosun@127.0.0.1:1/unused"))
        return try await Authenticator(lookUp: store.lookUp, configuration: configuration)
    }

    @Test func aTokenRevokedDuringItsLookUpIsRefusedAndNotCached() async throws {
        let store = PausingStore()
        let authenticator = try await authenticator(store)
        let token = Credential.newWorkerToken()
        var started = store.started.makeAsyncIterator()

        // The first request reads the row while the worker is still active ...
        let first = Task { try await authenticator.authenticate("Bearer \(token)") }
        _ = await started.next()
        // ... and the worker is deregistered (row updated, cache invalidated) before that
        // answer arrives.
        store.status.withLock { $0 = "deregistered" }
        await authenticator.invalidate(hash: Credential.hash(token))
        store.releaseContinuation.yield()

        await #expect(throws: APIError.self) { try await first.value }
        await #expect(throws: APIError.self) { try await authenticator.authenticate("Bearer \(token)") }
        // The stale answer was read again, not trusted: one look-up more than the requests made.
        #expect(store.lookUps.withLock { $0 } == 3)
    }

    @Test func anAnswerReadWithoutARevocationIsCached() async throws {
        let store = PausingStore()
        let authenticator = try await authenticator(store)
        let token = Credential.newWorkerToken()
        store.releaseContinuation.yield()
        let principal = try await authenticator.authenticate("Bearer \(token)")
        #expect(principal == store.principal)
        #expect(try await authenticator.authenticate("Bearer \(token)") == store.principal)
        #expect(store.lookUps.withLock { $0 } == 1)
        // After an invalidation the row is read again.
        await authenticator.invalidate(hash: Credential.hash(token))
        _ = try await authenticator.authenticate("Bearer \(token)")
        #expect(store.lookUps.withLock { $0 } == 2)
    }
}
