import Testing

@testable import Runtimes

@Suite struct GlobPatternTests {
    @Test func globFlavourMatchesFromTheBase() throws {
        let cases: [(String, String, Bool)] = [
            ("*.ts", "a.ts", true),
            ("*.ts", "src/a.ts", false),
            ("**/*.ts", "a.ts", true),
            ("**/*.ts", "src/deep/a.ts", true),
            ("src/**", "src/a/b.c", true),
            ("src/**/*.swift", "src/x.swift", true),
            ("src/**/*.swift", "src/a/b/x.swift", true),
            ("src/**/*.swift", "other/x.swift", false),
            ("file?.txt", "file1.txt", true),
            ("file?.txt", "file10.txt", false),
            ("*.{ts,tsx}", "a.tsx", true),
            ("*.{ts,tsx}", "a.js", false),
            ("{src,lib}/**/*.{c,h}", "lib/x/y.h", true),
            ("{a,{b,c}}.txt", "c.txt", true),
            ("[abc].md", "b.md", true),
            ("[!abc].md", "b.md", false),
            ("[!abc].md", "d.md", true),
            ("*", ".env", true),
            ("a+b(1).txt", "a+b(1).txt", true),
            ("\\*.txt", "*.txt", true),
            ("\\*.txt", "a.txt", false),
            ("{unclosed", "{unclosed", true),
        ]
        for (pattern, path, expected) in cases {
            #expect(try GlobPattern(glob: pattern).matches(path) == expected, "\(pattern) vs \(path)")
        }
        #expect(try GlobPattern(glob: "src/**/*.ts").literalPrefix == ["src"])
        #expect(try GlobPattern(glob: "**/*.ts").literalPrefix == [])
    }

    @Test func gitignoreFlavourMatchesNamesAnywhereAndDirectoryContents() throws {
        let cases: [(String, String, Bool)] = [
            ("*.env", ".env", true),
            ("*.env", "config/prod.env", true),
            ("secrets", "secrets/key.pem", true),
            ("secrets", "a/secrets/key.pem", true),
            ("/secrets", "a/secrets/key.pem", false),
            ("/secrets", "secrets/key.pem", true),
            ("src/**", "src/a/b.swift", true),
            ("src/**", "lib/src/a.swift", false),
            ("build/", "build/out.o", true),
            ("docs/*.md", "docs/a.md", true),
            ("docs/*.md", "x/docs/a.md", false),
        ]
        for (pattern, path, expected) in cases {
            #expect(try GlobPattern(gitignore: pattern).matches(path) == expected, "\(pattern) vs \(path)")
        }
    }
}
