/// A glob that cannot be compiled.
struct GlobPatternError: Error, CustomStringConvertible {
    var pattern: String
    var reason: String
    var description: String { "invalid glob pattern \"\(pattern)\": \(reason)" }
}
