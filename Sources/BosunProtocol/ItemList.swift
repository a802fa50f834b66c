/// The shape of every list reply: `{"items": [...]}`.
public struct ItemList<Item: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var items: [Item]
    public init(items: [Item]) { self.items = items }
}
