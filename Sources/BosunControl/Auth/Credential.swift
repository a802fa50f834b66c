import Crypto
import Foundation
import NIOCore

/// Secrets Bosun issues: API keys (`bsk_`) and worker tokens (`bwt_`), 43 base62 characters
/// (256 bits) after the prefix. Only their SHA-256 hashes are stored.
public enum Credential {
    public static let apiKeyPrefix = "bsk_"
    public static let workerTokenPrefix = "bwt_"
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    public static func newAPIKey() -> String { apiKeyPrefix + randomBase62(count: 43) }
    public static func newWorkerToken() -> String { workerTokenPrefix + randomBase62(count: 43) }

    static func randomBase62(count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        // Rejection sampling keeps every character equally likely.
        var result = ""
        result.reserveCapacity(count)
        while result.count < count {
            let byte = UInt8.random(in: 0...255, using: &generator)
            if byte < 248 { result.append(alphabet[Int(byte) % 62]) }
        }
        return result
    }

    public static func hash(_ secret: String) -> [UInt8] {
        Array(SHA256.hash(data: Data(secret.utf8)))
    }

    /// The hash as a `bytea` query parameter (a `[UInt8]` would bind as `char[]`).
    static func hashParameter(_ secret: String) -> ByteBuffer {
        ByteBuffer(bytes: hash(secret))
    }

    /// The part of a key that listings show so people can tell keys apart.
    public static func displayPrefix(_ secret: String) -> String {
        String(secret.prefix(apiKeyPrefix.count + 6))
    }

    /// True for strings shaped like an API key: `bsk_` and 32 or more base62 characters.
    public static func looksLikeAPIKey(_ text: String) -> Bool {
        looksLike(text, prefix: apiKeyPrefix)
    }

    public static func looksLikeWorkerToken(_ text: String) -> Bool {
        looksLike(text, prefix: workerTokenPrefix)
    }

    private static func looksLike(_ text: String, prefix: String) -> Bool {
        guard text.hasPrefix(prefix) else { return false }
        let body = text.dropFirst(prefix.count)
        return body.count >= 32 && body.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }
}
