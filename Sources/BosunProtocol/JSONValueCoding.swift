import Foundation

/// Codable straight to and from `JSONValue`, for the wire types on hot paths (every request
/// body the control API reads, every reply it writes, the worker's side of the same).
///
/// Foundation's JSONEncoder and JSONDecoder were about 12 % of the control API's CPU in
/// `bosun bench dispatch` (measured in docs/ARCHITECTURE.md): the `.custom` date strategy runs a
/// nested encoder per date, `.sortedKeys` sorts with Unicode-aware comparisons, and a request
/// body that the control API had already parsed (to check its keys) was parsed a second time.
/// These coders follow `WireCoding`'s conventions exactly: dates as RFC 3339 text
/// (`WireCoding.formatDate`/`parseDate`), `Data` as base64, `URL` as its absolute string, object
/// keys sorted by UTF-8 bytes when written (`JSONValue.write(into:sortedKeys:)`), and errors as
/// `EncodingError`/`DecodingError` with the coding path, as Foundation reports them.
///
/// Numbers are `Double`s in `JSONValue`: integers are exact up to 2^53, which every integer on
/// the wire is far below; encoding a larger one is an error rather than a silent rounding.
public enum JSONValueCoder {
    public static func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        if let json = value as? JSONValue { return json }
        let root = EncodingBox()
        try ValueEncoder(box: root, codingPath: []).encodeValue(value)
        return root.materialize()
    }

    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try ValueDecoder(value: value, codingPath: []).decodeValue(type)
    }
}

extension WireCoding {
    /// Compact JSON bytes with sorted keys, as `encoder()` writes them, without JSONEncoder.
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        try JSONValueCoder.encode(value).jsonBytes(sortedKeys: true)
    }

    /// Decodes JSON bytes as `decoder()` would, without JSONDecoder. Malformed JSON is a
    /// `DecodingError.dataCorrupted` with an empty coding path, as JSONDecoder reports it.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        let document: JSONValue
        do {
            document =
                try bytes.withContiguousStorageIfAvailable { try JSONValue(parsing: UnsafeRawBufferPointer($0)) }
                ?? Array(bytes).withUnsafeBytes { try JSONValue(parsing: $0) }
        } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: [], debugDescription: "The given data was not valid JSON.", underlyingError: error))
        }
        return try JSONValueCoder.decode(type, from: document)
    }
}

// MARK: - Encoding

/// A value under construction. Containers hand out boxes for nested values, so a container
/// can be filled after it was inserted, as the `Encoder` protocol requires.
final class EncodingBox {
    enum Content {
        case empty
        case value(JSONValue)
        case object([String: Node])
        case array([Node])
    }

    /// A leaf is stored as its value (no box); only nested containers need one.
    enum Node {
        case value(JSONValue)
        case box(EncodingBox)

        func materialize() -> JSONValue {
            switch self {
            case .value(let value): value
            case .box(let box): box.materialize()
            }
        }
    }

    var content: Content = .empty

    func materialize() -> JSONValue {
        switch content {
        case .empty: .object([:])
        case .value(let value): value
        case .object(let members): .object(members.mapValues { $0.materialize() })
        case .array(let elements): .array(elements.map { $0.materialize() })
        }
    }
}

/// A coding key for array positions and `super`.
struct IndexKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }
    init(intValue: Int) {
        self.stringValue = "Index \(intValue)"
        self.intValue = intValue
    }
    static let `super` = IndexKey(stringValue: "super")
}

/// The JSON value of a leaf that needs no encoder of its own, or nil. Metatype comparisons
/// first: one dynamic cast per value instead of trying a dozen.
private func leafValue<T: Encodable>(_ value: T, at codingPath: [any CodingKey]) throws -> JSONValue? {
    let type = T.self
    if type == String.self { return .string(value as! String) }
    if type == UUID.self { return .string((value as! UUID).uuidString) }
    if type == Int.self { return try integer(value as! Int, at: codingPath) }
    if type == Bool.self { return .bool(value as! Bool) }
    if type == Double.self { return try number(value as! Double, at: codingPath) }
    if type == JSONValue.self { return (value as! JSONValue) }
    if type == Date.self { return .string(WireCoding.formatDate(value as! Date)) }
    if type == Int64.self { return try integer(value as! Int64, at: codingPath) }
    if type == Int32.self { return .number(Double(value as! Int32)) }
    if type == URL.self { return .string((value as! URL).absoluteString) }
    if type == Data.self { return .string((value as! Data).base64EncodedString()) }
    if type == Float.self { return try number(Double(value as! Float), at: codingPath) }
    return nil
}

private func number(_ value: Double, at codingPath: [any CodingKey]) throws -> JSONValue {
    guard value.isFinite else {
        throw EncodingError.invalidValue(
            value, .init(codingPath: codingPath, debugDescription: "Unable to encode Double.\(value) directly in JSON."))
    }
    return .number(value)
}

/// 2^53: the largest magnitude below which every integer is exact as a Double.
private let exactIntegerLimit: Double = 9_007_199_254_740_992

private func integer<I: BinaryInteger>(_ value: I, at codingPath: [any CodingKey]) throws -> JSONValue {
    let double = Double(value)
    guard abs(double) < exactIntegerLimit else {
        throw EncodingError.invalidValue(
            value, .init(codingPath: codingPath, debugDescription: "\(value) is too large to be sent exactly as a JSON number."))
    }
    return .number(double)
}

struct ValueEncoder: Encoder {
    let box: EncodingBox
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func encodeValue<T: Encodable>(_ value: T) throws {
        if let leaf = try leafValue(value, at: codingPath) {
            box.content = .value(leaf)
        } else {
            try value.encode(to: self)
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = box.content {} else { box.content = .object([:]) }
        return KeyedEncodingContainer(KeyedEncoder<Key>(box: box, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = box.content {} else { box.content = .array([]) }
        return UnkeyedEncoder(box: box, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleValueEncoder(box: box, codingPath: codingPath) }
}

/// The node for a value: a leaf as itself, anything else encoded into a box of its own.
private func node<T: Encodable>(for value: T, at codingPath: [any CodingKey]) throws -> EncodingBox.Node {
    if let leaf = try leafValue(value, at: codingPath) { return .value(leaf) }
    let child = EncodingBox()
    try value.encode(to: ValueEncoder(box: child, codingPath: codingPath))
    return .box(child)
}

struct KeyedEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: EncodingBox
    let codingPath: [any CodingKey]

    private func set(_ node: EncodingBox.Node, for key: Key) { set(node, named: key.stringValue) }

    private func set(_ node: EncodingBox.Node, named name: String) {
        guard case .object(var members) = box.content else { return }
        box.content = .empty  // keeps `members` uniquely referenced while it changes
        members[name] = node
        box.content = .object(members)
    }

    mutating func encodeNil(forKey key: Key) throws { set(.value(.null), for: key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(.value(.bool(value)), for: key) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(.value(.string(value)), for: key) }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        set(.value(try number(value, at: codingPath + [key])), for: key)
    }
    mutating func encode(_ value: Int, forKey key: Key) throws {
        set(.value(try integer(value, at: codingPath + [key])), for: key)
    }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        set(try node(for: value, at: codingPath + [key]), for: key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        let child = EncodingBox()
        set(.box(child), for: key)
        return ValueEncoder(box: child, codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = EncodingBox()
        set(.box(child), for: key)
        return ValueEncoder(box: child, codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let child = EncodingBox()
        set(.box(child), named: IndexKey.super.stringValue)
        return ValueEncoder(box: child, codingPath: codingPath + [IndexKey.super])
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let child = EncodingBox()
        set(.box(child), for: key)
        return ValueEncoder(box: child, codingPath: codingPath + [key])
    }
}

struct UnkeyedEncoder: UnkeyedEncodingContainer {
    let box: EncodingBox
    let codingPath: [any CodingKey]

    var count: Int {
        if case .array(let elements) = box.content { return elements.count }
        return 0
    }

    private var nextKey: IndexKey { IndexKey(intValue: count) }

    private func append(_ node: EncodingBox.Node) {
        guard case .array(var elements) = box.content else { return }
        box.content = .empty
        elements.append(node)
        box.content = .array(elements)
    }

    mutating func encodeNil() throws { append(.value(.null)) }
    mutating func encode(_ value: Bool) throws { append(.value(.bool(value))) }
    mutating func encode(_ value: String) throws { append(.value(.string(value))) }
    mutating func encode<T: Encodable>(_ value: T) throws { append(try node(for: value, at: codingPath + [nextKey])) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let key = nextKey
        let child = EncodingBox()
        append(.box(child))
        return ValueEncoder(box: child, codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let key = nextKey
        let child = EncodingBox()
        append(.box(child))
        return ValueEncoder(box: child, codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let key = nextKey
        let child = EncodingBox()
        append(.box(child))
        return ValueEncoder(box: child, codingPath: codingPath + [key])
    }
}

struct SingleValueEncoder: SingleValueEncodingContainer {
    let box: EncodingBox
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { box.content = .value(.null) }
    mutating func encode(_ value: Bool) throws { box.content = .value(.bool(value)) }
    mutating func encode(_ value: String) throws { box.content = .value(.string(value)) }
    mutating func encode(_ value: Double) throws { box.content = .value(try number(value, at: codingPath)) }
    mutating func encode(_ value: Float) throws { box.content = .value(try number(Double(value), at: codingPath)) }
    mutating func encode(_ value: Int) throws { try setInteger(value) }
    mutating func encode(_ value: Int8) throws { try setInteger(value) }
    mutating func encode(_ value: Int16) throws { try setInteger(value) }
    mutating func encode(_ value: Int32) throws { try setInteger(value) }
    mutating func encode(_ value: Int64) throws { try setInteger(value) }
    mutating func encode(_ value: UInt) throws { try setInteger(value) }
    mutating func encode(_ value: UInt8) throws { try setInteger(value) }
    mutating func encode(_ value: UInt16) throws { try setInteger(value) }
    mutating func encode(_ value: UInt32) throws { try setInteger(value) }
    mutating func encode(_ value: UInt64) throws { try setInteger(value) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        try ValueEncoder(box: box, codingPath: codingPath).encodeValue(value)
    }

    private func setInteger<I: BinaryInteger>(_ value: I) throws { box.content = .value(try integer(value, at: codingPath)) }
}

// MARK: - Decoding

extension JSONValue {
    /// How Foundation names a JSON value's kind in its error messages.
    fileprivate var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .number: "number"
        case .string: "a string"
        case .array: "an array"
        case .object: "a dictionary"
        }
    }
}

private func mismatch(_ type: Any.Type, _ value: JSONValue, at codingPath: [any CodingKey]) -> DecodingError {
    if case .null = value {
        return .valueNotFound(type, .init(codingPath: codingPath, debugDescription: "Expected \(type) value but found null instead."))
    }
    return .typeMismatch(
        type, .init(codingPath: codingPath, debugDescription: "Expected to decode \(type) but found \(value.kindDescription) instead."))
}

private func decodeString(_ value: JSONValue, at codingPath: [any CodingKey]) throws -> String {
    guard case .string(let text) = value else { throw mismatch(String.self, value, at: codingPath) }
    return text
}

private func decodeBool(_ value: JSONValue, at codingPath: [any CodingKey]) throws -> Bool {
    guard case .bool(let flag) = value else { throw mismatch(Bool.self, value, at: codingPath) }
    return flag
}

private func decodeDouble(_ value: JSONValue, at codingPath: [any CodingKey]) throws -> Double {
    guard case .number(let number) = value else { throw mismatch(Double.self, value, at: codingPath) }
    return number
}

private func decodeInteger<I: FixedWidthInteger>(_ type: I.Type, _ value: JSONValue, at codingPath: [any CodingKey]) throws -> I {
    guard case .number(let number) = value else { throw mismatch(type, value, at: codingPath) }
    guard number.rounded() == number, abs(number) < exactIntegerLimit, let exact = I(exactly: number) else {
        throw DecodingError.dataCorrupted(
            .init(codingPath: codingPath, debugDescription: "Number \(number) does not fit in \(type)."))
    }
    return exact
}

/// Decodes the leaves that need no decoder of their own; nil for anything else.
private func decodeLeaf<T: Decodable>(_ type: T.Type, _ value: JSONValue, at codingPath: [any CodingKey]) throws -> T? {
    if type == String.self { return try decodeString(value, at: codingPath) as? T }
    if type == UUID.self {
        let text = try decodeString(value, at: codingPath)
        guard let uuid = UUID(uuidString: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: codingPath, debugDescription: "Attempted to decode UUID from invalid UUID string."))
        }
        return uuid as? T
    }
    if type == Int.self { return try decodeInteger(Int.self, value, at: codingPath) as? T }
    if type == Bool.self { return try decodeBool(value, at: codingPath) as? T }
    if type == Double.self { return try decodeDouble(value, at: codingPath) as? T }
    if type == JSONValue.self { return value as? T }
    if type == Date.self {
        let text = try decodeString(value, at: codingPath)
        guard let date = WireCoding.parseDate(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: codingPath, debugDescription: "expected an ISO 8601 date, got '\(text)'"))
        }
        return date as? T
    }
    if type == Int64.self { return try decodeInteger(Int64.self, value, at: codingPath) as? T }
    if type == Int32.self { return try decodeInteger(Int32.self, value, at: codingPath) as? T }
    if type == URL.self {
        let text = try decodeString(value, at: codingPath)
        guard let url = URL(string: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "Invalid URL string."))
        }
        return url as? T
    }
    if type == Data.self {
        let text = try decodeString(value, at: codingPath)
        guard let data = Data(base64Encoded: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "Encountered Data is not valid Base64."))
        }
        return data as? T
    }
    if type == Float.self { return Float(try decodeDouble(value, at: codingPath)) as? T }
    return nil
}

struct ValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if let leaf = try decodeLeaf(type, value, at: codingPath) { return leaf }
        return try T(from: self)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else { throw mismatch([String: JSONValue].self, value, at: codingPath) }
        return KeyedDecodingContainer(KeyedDecoder<Key>(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw mismatch([JSONValue].self, value, at: codingPath) }
        return UnkeyedDecoder(elements: elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleValueDecoder(value: value, codingPath: codingPath) }
}

struct KeyedDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let codingPath: [any CodingKey]

    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    private func member(_ key: Key) throws -> JSONValue {
        guard let value = members[key.stringValue] else {
            throw DecodingError.keyNotFound(
                key, .init(codingPath: codingPath, debugDescription: "No value associated with key \(key) (\"\(key.stringValue)\")."))
        }
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        if case .null = try member(key) { return true }
        return false
    }

    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decodeString(try member(key), at: codingPath + [key]) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decodeBool(try member(key), at: codingPath + [key]) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decodeDouble(try member(key), at: codingPath + [key]) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decodeInteger(Int.self, try member(key), at: codingPath + [key]) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try ValueDecoder(value: try member(key), codingPath: codingPath + [key]).decodeValue(type)
    }

    // Absent and null are both "not present", as JSONDecoder has it.
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        guard let value = members[key.stringValue], value != .null else { return nil }
        return try decodeString(value, at: codingPath + [key])
    }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        guard let value = members[key.stringValue], value != .null else { return nil }
        return try decodeBool(value, at: codingPath + [key])
    }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        guard let value = members[key.stringValue], value != .null else { return nil }
        return try decodeDouble(value, at: codingPath + [key])
    }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        guard let value = members[key.stringValue], value != .null else { return nil }
        return try decodeInteger(Int.self, value, at: codingPath + [key])
    }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = members[key.stringValue], value != .null else { return nil }
        return try ValueDecoder(value: value, codingPath: codingPath + [key]).decodeValue(type)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try ValueDecoder(value: try member(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try ValueDecoder(value: try member(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        ValueDecoder(value: members["super"] ?? .null, codingPath: codingPath + [IndexKey.super])
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        ValueDecoder(value: members[key.stringValue] ?? .null, codingPath: codingPath + [key])
    }
}

struct UnkeyedDecoder: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let codingPath: [any CodingKey]
    var currentIndex = 0

    init(elements: [JSONValue], codingPath: [any CodingKey]) {
        self.elements = elements
        self.codingPath = codingPath
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private var key: IndexKey { IndexKey(intValue: currentIndex) }

    private mutating func next(_ type: Any.Type) throws -> JSONValue {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                type, .init(codingPath: codingPath + [key], debugDescription: "Unkeyed container is at end."))
        }
        defer { currentIndex += 1 }
        return elements[currentIndex]
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                JSONValue.self, .init(codingPath: codingPath + [key], debugDescription: "Unkeyed container is at end."))
        }
        if case .null = elements[currentIndex] {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let path = codingPath + [key]
        let value = try next(type)
        return try ValueDecoder(value: value, codingPath: path).decodeValue(type)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let path = codingPath + [key]
        return try ValueDecoder(value: try next([String: JSONValue].self), codingPath: path).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let path = codingPath + [key]
        return try ValueDecoder(value: try next([JSONValue].self), codingPath: path).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let path = codingPath + [key]
        return ValueDecoder(value: try next(JSONValue.self), codingPath: path)
    }
}

struct SingleValueDecoder: SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool {
        if case .null = value { return true }
        return false
    }

    func decode(_ type: String.Type) throws -> String { try decodeString(value, at: codingPath) }
    func decode(_ type: Bool.Type) throws -> Bool { try decodeBool(value, at: codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try decodeDouble(value, at: codingPath) }
    func decode(_ type: Float.Type) throws -> Float { Float(try decodeDouble(value, at: codingPath)) }
    func decode(_ type: Int.Type) throws -> Int { try decodeInteger(type, value, at: codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decodeInteger(type, value, at: codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decodeInteger(type, value, at: codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decodeInteger(type, value, at: codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decodeInteger(type, value, at: codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try decodeInteger(type, value, at: codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decodeInteger(type, value, at: codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decodeInteger(type, value, at: codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decodeInteger(type, value, at: codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decodeInteger(type, value, at: codingPath) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try ValueDecoder(value: value, codingPath: codingPath).decodeValue(type)
    }
}
