/// Small conveniences the commands share.
extension Optional where Wrapped == String {
    var orEmpty: String { self ?? "" }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
