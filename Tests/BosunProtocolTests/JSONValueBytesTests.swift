import BosunProtocol
import Foundation
import Testing

@Suite struct JSONValueBytesTests {
    // MARK: Helpers

    static func foundationDecode(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    static func parseError(_ bytes: [UInt8]) -> JSONParseError? {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(JSONParseError) -> JSONValue in try JSONValue(parsing: raw) }
        }
        if case .failure(let error) = result { return error }
        return nil
    }

    static func parseError(_ text: String) -> JSONParseError? {
        parseError(Array(text.utf8))
    }

    /// Valid documents that JSONDecoder accepts too.
    static let validCorpus: [String] = [
        "0", "-0", "1", "-1", "42", "1e3", "1E-2", "1e+2", "-1.5e-3", "0.1", "0.5", "3.14159",
        "123456789012345678901234567890", "5e-324", "1.7976931348623157e308", "-1.7976931348623157e308",
        "9007199254740993", "2.2250738585072014e-308", "1234567.890123456789", "0.000001", "100e-2",
        "true", "false", "null",
        #""""#, #""hello""#, #""a\"b\\c\/d\b\f\n\r\t""#, #""\u0041\u00e9\u4e2d\u0000""#,
        #""\ud83d\ude00 emoji""#, #""😀 raw emoji, é, 日本語""#, #""\uD834\uDD1E""#,
        "{}", "[]", "[[]]", "{\"a\":{}}", " \t\r\n [ 1 , 2 ] \n",
        #"{"a":1,"b":[true,false,null],"c":{"d":"e","f":[{"g":-2.5}]}}"#,
        #"[1,"two",3.0,[4,[5,[6]]],{"seven":7}]"#,
        #"{"jsonrpc":"2.0","id":42,"result":{"content":[{"type":"text","text":"hello 42"}],"structuredContent":{"result":"hello 42"},"isError":false}}"#,
        #"{"":"empty key","key with spaces":"v","ünïcödé":"ключ"}"#,
        "[1e22,1e23,1e-22,4.9e-324,123456789012345,1234567890123456,0.1e1,10.0]",
        "[\"\u{7F}\"]",
    ]

    // MARK: Agreement with JSONDecoder

    @Test(arguments: validCorpus)
    func matchesJSONDecoder(_ text: String) throws {
        let expected = try Self.foundationDecode(text)
        let fromString = try JSONValue(parsing: text)
        let fromData = try JSONValue(parsing: Data(text.utf8))
        #expect(fromString == expected)
        #expect(fromData == expected)
        // Bit-exact numbers, not just ==, and -0 keeps its sign.
        if case .number(let a) = fromString, case .number(let b) = expected {
            #expect(a.bitPattern == b.bitPattern, "\(text): \(a) vs \(b)")
        }
    }

    @Test func numbersAreCorrectlyRounded() throws {
        let cases: [(String, Double)] = [
            ("0.1", 0.1), ("1e-7", 1e-7), ("5e-324", .leastNonzeroMagnitude), ("1.7976931348623157e308", .greatestFiniteMagnitude),
            ("123456789012345678901234567890", 123456789012345678901234567890.0), ("9007199254740993", 9007199254740992),
            ("2.2250738585072011e-308", Double(bitPattern: 0x000F_FFFF_FFFF_FFFF)), ("0.30000000000000004", 0.30000000000000004),
            ("-0", -0.0), ("1e400".replacingOccurrences(of: "400", with: "-400"), 0),
        ]
        for (text, value) in cases {
            let parsed = try JSONValue(parsing: text)
            #expect(parsed.numberValue?.bitPattern == value.bitPattern, "\(text)")
        }
    }

    @Test func duplicateKeysLastWins() throws {
        #expect(try JSONValue(parsing: #"{"a":1,"b":2,"a":3}"#) == ["a": 3, "b": 2])
        // Known difference: JSONDecoder keeps the FIRST duplicate.
        #expect(try Self.foundationDecode(#"{"a":1,"b":2,"a":3}"#) == ["a": 1, "b": 2])
    }

    @Test func unpairedSurrogatesBecomeReplacementCharacter() throws {
        #expect(try JSONValue(parsing: #""\ud800""#) == "\u{FFFD}")
        #expect(try JSONValue(parsing: #""\udc00x""#) == "\u{FFFD}x")
        #expect(try JSONValue(parsing: #""a\ud83dz""#) == "a\u{FFFD}z")
        #expect(try JSONValue(parsing: #""\ud83d\u0041""#) == "\u{FFFD}A")
        #expect(try JSONValue(parsing: #""\ud83d\ud83d\ude00""#) == "\u{FFFD}😀")
        #expect(try JSONValue(parsing: #""\ude00\ud83d""#) == "\u{FFFD}\u{FFFD}")
    }

    // MARK: Rejections

    static let rejections: [(String, Int, String)] = [
        ("", 0, "unexpected end of input"),
        ("   \n\t", 5, "unexpected end of input"),
        ("x", 0, "unexpected character 'x'"),
        ("[1,]", 3, "unexpected character ']'"),
        ("[1 2]", 3, "unexpected character '2' (expected ',' or ']')"),
        ("{\"a\" 1}", 5, "unexpected character '1' (expected ':')"),
        ("{a:1}", 1, "unexpected character 'a' (expected a string key)"),
        ("{\"a\":1,}", 7, "unexpected character '}' (expected a string key)"),
        ("[1", 2, "unexpected end of input"),
        ("{\"a\":", 5, "unexpected end of input"),
        ("1 2", 2, "unexpected data after the value"),
        ("{} x", 3, "unexpected data after the value"),
        ("nul", 3, "unexpected end of input"),
        ("nulL", 3, "unexpected character 'L'"),
        ("True", 0, "unexpected character 'T'"),
        ("+1", 0, "unexpected character '+'"),
        ("01", 0, "invalid number: leading zero"),
        ("-01", 1, "invalid number: leading zero"),
        (".5", 0, "unexpected character '.'"),
        ("5.", 2, "unexpected end of input"),
        ("[5.]", 3, "invalid number: expected a digit after '.'"),
        ("-", 1, "unexpected end of input"),
        ("-a", 1, "invalid number: expected a digit"),
        ("1e", 2, "unexpected end of input"),
        ("[1e+]", 4, "invalid number: expected a digit in the exponent"),
        ("NaN", 0, "unexpected character 'N'"),
        ("Infinity", 0, "unexpected character 'I'"),
        ("-Infinity", 1, "invalid number: expected a digit"),
        ("0x10", 1, "unexpected data after the value"),
        ("1e400", 0, "number out of range"),
        ("[-1e309]", 1, "number out of range"),
        ("\"abc", 0, "unterminated string"),
        ("[\"abc\\", 1, "unterminated string"),
        ("\"a\nb\"", 2, "unescaped control character 0x0A in string"),
        ("\"a\tb\"", 2, "unescaped control character 0x09 in string"),
        ("\"\\x\"", 1, "invalid escape '\\x'"),
        ("\"\\u12\"", 1, "invalid \\u escape"),
        ("\"\\u12G4\"", 1, "invalid \\u escape"),
        ("\u{FEFF}1", 0, "unexpected byte 0xEF"),
        ("\u{0B}1", 0, "unexpected byte 0x0B"),
        ("'a'", 0, "unexpected character '''"),
        ("[1,,2]", 3, "unexpected character ','"),
    ]

    @Test(arguments: 0..<rejections.count)
    func rejects(_ index: Int) {
        let (text, offset, reason) = Self.rejections[index]
        let error = Self.parseError(text)
        #expect(error == JSONParseError(offset: offset, reason: reason), "\(text.debugDescription)")
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: text) }
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: Data(text.utf8)) }
    }

    @Test func invalidUTF8IsRejected() {
        let cases: [([UInt8], Int)] = [
            ([0x22, 0xFF, 0x22], 1),  // never valid
            ([0x22, 0x61, 0xC3, 0x22], 2),  // truncated 2-byte sequence
            ([0x22, 0xC0, 0xAF, 0x22], 1),  // overlong
            ([0x22, 0xE0, 0x80, 0xAF, 0x22], 1),  // overlong 3-byte
            ([0x22, 0xED, 0xA0, 0x80, 0x22], 1),  // UTF-8 encoded surrogate
            ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 1),  // above U+10FFFF
            ([0x22, 0x5C, 0x6E, 0x80, 0x22], 3),  // stray continuation after an escape
            ([0x22, 0xE2, 0x82], 1),  // truncated at end of input
        ]
        for (bytes, offset) in cases {
            #expect(Self.parseError(bytes) == JSONParseError(offset: offset, reason: "invalid UTF-8"), "\(bytes)")
        }
        #expect(Self.parseError([0x5B, 0xC3, 0xA9, 0x5D]) == JSONParseError(offset: 1, reason: "unexpected byte 0xC3"))
    }

    @Test func errorDescription() {
        let error = JSONParseError(offset: 3, reason: "unexpected character ']'")
        #expect(error.description == "invalid JSON at byte 3: unexpected character ']'")
        #expect(Self.parseError("[1,]")?.description == "invalid JSON at byte 3: unexpected character ']'")
    }

    // MARK: Nesting

    @Test func nestingLimit() throws {
        let limit = JSONValue.maximumParseDepth
        let deepest = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        _ = try JSONValue(parsing: deepest)
        let mixed = String(repeating: "{\"a\":[", count: limit / 2) + String(repeating: "]}", count: limit / 2)
        _ = try JSONValue(parsing: mixed)

        let tooDeep = String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)
        #expect(Self.parseError(tooDeep) == JSONParseError(offset: limit, reason: "nesting deeper than 512"))
        let tooDeepObjects = String(repeating: "{\"k\":", count: limit + 1) + "1" + String(repeating: "}", count: limit + 1)
        #expect(Self.parseError(tooDeepObjects)?.reason == "nesting deeper than 512")
        let huge = String(repeating: "[", count: 100_000)
        #expect(Self.parseError(huge) == JSONParseError(offset: limit, reason: "nesting deeper than 512"))
    }

    // MARK: Serializing

    /// Values without non-integral numbers, whose JSONEncoder output must match byte for byte.
    static let encoderCorpus: [JSONValue] = [
        .null, true, false, 0, -0.0, 1, -1, 42, 8_999_999_999_999_999, -8_999_999_999_999_999, 1e16, -1e20, 9.1e15,
        1e300, .number(Double(Int64.max)),
        "", "plain", "quote \" backslash \\ slash / tab \t newline \n cr \r bs \u{8} ff \u{C}",
        "controls \u{0}\u{1}\u{1F}\u{7F}", "unicode é 日本 😀 \u{2028}\u{2029}", "</script>",
        [], [:], [[], [:], [[]]], [1, "two", nil, true, [3]],
        ["b": 1, "a": 2, "A": 3, "_": 4, "a10": 5, "a2": 6, "": 7, "é": 8, "z": 9, "ab": 10, "a_": 11],
        ["nested": ["z": ["y": [1, 2, ["x": nil]]], "a": "b"], "list": [["k": "v"], ["k": "w", "j": false]]],
        [
            "jsonrpc": "2.0", "id": 42,
            "result": [
                "content": [["type": "text", "text": "hello 42"]], "structuredContent": ["result": "hello 42"],
                "isError": false,
            ],
        ],
    ]

    @Test(arguments: 0..<encoderCorpus.count)
    func serializerMatchesJSONEncoder(_ index: Int) throws {
        let value = Self.encoderCorpus[index]
        let expected = try WireCoding.encoder().encode(value)
        let actual = value.jsonBytes(sortedKeys: true)
        #expect(String(decoding: actual, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
        #expect(actual == Array(expected))
        #expect(value.jsonText(sortedKeys: true) == value.jsonString)
    }

    @Test func serializerFormats() {
        #expect(JSONValue.number(-0.0).jsonText() == "0")
        #expect(JSONValue.number(0.1).jsonText() == "0.1")
        #expect(JSONValue.number(1e-7).jsonText() == "1e-07")
        #expect(JSONValue.number(1.5e300).jsonText() == "1.5e+300")
        #expect(JSONValue.number(-2.5).jsonText() == "-2.5")
        #expect(JSONValue.number(.infinity).jsonText() == "null")
        #expect(JSONValue.number(-.infinity).jsonText() == "null")
        #expect(JSONValue.number(.nan).jsonText() == "null")
        #expect(JSONValue.string("a/b\u{7F}é\u{1}").jsonText() == "\"a/b\u{7F}é\\u0001\"")
        #expect(JSONValue.array([1, 2, ["a": nil]]).jsonText() == #"[1,2,{"a":null}]"#)
        var buffer: [UInt8] = Array("prefix:".utf8)
        JSONValue.bool(true).write(into: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == "prefix:true")
        // Sorted by UTF-8 bytes, not by String's Unicode ordering.
        let keys: JSONValue = ["\u{EA}": 1, "e\u{301}": 2, "f": 3]
        #expect(keys.jsonText(sortedKeys: true) == "{\"e\u{301}\":2,\"f\":3,\"\u{EA}\":1}")
    }

    @Test func unsortedOutputParsesBack() throws {
        for value in Self.encoderCorpus {
            #expect(try JSONValue(parsing: value.jsonText()) == value)
        }
    }

    // MARK: Round trips

    @Test func nestedRoundTrip() throws {
        let value: JSONValue = [
            "a": [1, 2.5, -3e-10, "x\"y", ["b": [nil, true, false, [], [:]]]],
            "unicode": "😀 \u{0} \u{1F} é \\ /",
            "numbers": [0.1, 1e300, -1e-300, .number(.leastNonzeroMagnitude), .number(.greatestFiniteMagnitude), 123456789.123456789],
            "deep": [[[[[[["z": [[[[1]]]]]]]]]]],
        ]
        for sorted in [false, true] {
            let bytes = value.jsonBytes(sortedKeys: sorted)
            let parsed = try bytes.withUnsafeBytes { raw throws(JSONParseError) in try JSONValue(parsing: raw) }
            #expect(parsed == value)
            #expect(try Self.foundationDecode(String(decoding: bytes, as: UTF8.self)) == value)
        }
    }

    /// SplitMix64: deterministic across runs and platforms.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func randomString(_ rng: inout SeededGenerator) -> String {
        let pool: [Unicode.Scalar] = [
            "a", "b", "z", "A", "0", " ", "\"", "\\", "/", "\n", "\t", "\r", "\u{0}", "\u{1}", "\u{1F}", "\u{7F}",
            "é", "ß", "日", "\u{2028}", "😀", "𝄞", "\u{FFFD}", "\u{FEFF}", "{", "}", "[", "]", ",", ":",
        ]
        var text = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...12, using: &rng) {
            text.append(pool.randomElement(using: &rng)!)
        }
        return String(text)
    }

    static func randomNumber(_ rng: inout SeededGenerator) -> Double {
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: return Double(Int.random(in: -1000...1000, using: &rng))
        case 1: return Double(Int64.random(in: -9_000_000_000_000_000...9_000_000_000_000_000, using: &rng))
        case 2: return Double.random(in: -1...1, using: &rng)
        case 3:
            // Any finite bit pattern: subnormals, huge and tiny magnitudes.
            while true {
                let value = Double(bitPattern: rng.next())
                if value.isFinite { return value }
            }
        case 4: return Double.random(in: -1e6...1e6, using: &rng).rounded() / 100
        default: return [0.0, -0.0, 9e15, -9e15, 9.0e15 + 2, 1e16, .leastNonzeroMagnitude, .greatestFiniteMagnitude].randomElement(using: &rng)!
        }
    }

    static func randomValue(_ rng: inout SeededGenerator, depth: Int) -> JSONValue {
        let kind = depth >= 5 ? Int.random(in: 0..<4, using: &rng) : Int.random(in: 0..<6, using: &rng)
        switch kind {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .number(randomNumber(&rng))
        case 3: return .string(randomString(&rng))
        case 4:
            return .array((0..<Int.random(in: 0...5, using: &rng)).map { _ in randomValue(&rng, depth: depth + 1) })
        default:
            var object: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...5, using: &rng) {
                object[randomString(&rng)] = randomValue(&rng, depth: depth + 1)
            }
            return .object(object)
        }
    }

    @Test func randomValuesRoundTrip() throws {
        var rng = SeededGenerator(state: 0x5EED_1234)
        var buffer: [UInt8] = []
        for iteration in 0..<3000 {
            let value = Self.randomValue(&rng, depth: 0)
            let sorted = iteration % 2 == 0
            buffer.removeAll(keepingCapacity: true)
            value.write(into: &buffer, sortedKeys: sorted)
            let parsed = try buffer.withUnsafeBytes { raw throws(JSONParseError) in try JSONValue(parsing: raw) }
            #expect(parsed == value, "iteration \(iteration): \(String(decoding: buffer, as: UTF8.self))")
            if iteration % 10 == 0 {
                // Foundation reads what we write, and (sorted) our output equals its own re-encoding after parsing.
                let text = String(decoding: buffer, as: UTF8.self)
                #expect(try Self.foundationDecode(text) == value, "iteration \(iteration): \(text)")
            }
            if parsed != value { break }
        }
    }
}
