// swift-tools-version:6.1
import PackageDescription

#if os(Linux)
import Glibc

/// How the worker is linked, to keep its resident memory small (issue 3 asks <= 20 MB idle): lld,
/// no dynamic symbol table for its own code, and relocations packed as RELR, which the C library's
/// loader reads in 40 KB instead of 2.7 MB (all of it resident otherwise). RELR needs glibc 2.36 or
/// later where the worker runs, so on an older C library the worker is linked without it.
/// scripts/build-worker adds the static Swift runtime and the link order. Measured in
/// docs/ARCHITECTURE.md.
let workerLinkerFlags: [String] = {
    var flags = ["-use-ld=lld", "-Xlinker", "--no-export-dynamic"]
    var buffer = [CChar](repeating: 0, count: 64)  // "glibc 2.36"
    _ = confstr(Int32(_CS_GNU_LIBC_VERSION), &buffer, buffer.count)
    let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let version = text.split(separator: " ").last?.split(separator: ".").compactMap { Int($0) } ?? []
    if version.count >= 2, (version[0], version[1]) >= (2, 36) {
        flags += ["-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"]
    }
    return flags
}()
#else
let workerLinkerFlags: [String] = []
#endif

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "bosun",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "bosun-control", targets: ["BosunControlMain"]),
        .executable(name: "bosun-worker", targets: ["WorkerMain"]),
        .executable(name: "bosun", targets: ["CLI"]),
        .executable(name: "bosun-sandbox", targets: ["SandboxExec"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.1"),
    ],
    targets: [
        // The worker <-> control API wire contract; imported by both sides so it cannot drift.
        .target(name: "BosunProtocol", swiftSettings: swiftSettings),

        // C libraries behind system-library targets; exactly one Swift file wraps each.
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CSeccomp", providers: [.apt(["libseccomp-dev"])]),

        .target(
            name: "BosunLogging",
            dependencies: ["BosunProtocol", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Redis",
            dependencies: ["CHiredis", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),

        // Policies: the rules' shape and the one evaluator both the control API and the worker use.
        .target(name: "Policy", dependencies: ["BosunProtocol"], swiftSettings: swiftSettings),
        .target(
            name: "BosunControl",
            dependencies: [
                "BosunProtocol",
                "Policy",
                "BosunLogging",
                "LLM",
                "Redis",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "BosunControlMain",
            dependencies: [
                "BosunControl",
                "BosunSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        // Host facts, system metrics, GPUs, process groups, cgroups and sd_notify: Foundation and Glibc only.
        .target(name: "BosunSystem", swiftSettings: swiftSettings),

        // Filled by later issues (runtimes, MCP, sandbox).
        .target(
            name: "Runtimes",
            dependencies: [
                "BosunProtocol",
                "Policy",
                "BosunSystem",
                "LLM",
                "MCP",
                "Sandbox",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Bosun's own MCP client: stdio servers, supervision, tool naming (see DESIGN.md for why not the SDK).
        .target(
            name: "MCP",
            dependencies: ["BosunProtocol", "BosunSystem", "LLM", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WorkerCore",
            dependencies: [
                "BosunProtocol",
                "BosunLogging",
                "BosunSystem",
                "Redis",
                "Runtimes",
                "MCP",
                "Sandbox",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "WorkerMain",
            dependencies: [
                "WorkerCore",
                "Runtimes",
                "LLM",
                "Sandbox",
                "BosunLogging",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings,
            linkerSettings: [.unsafeFlags(workerLinkerFlags)]
        ),
        // A fake model provider speaking OpenAI's and Anthropic's real wire formats, for tests and the demo.
        .target(
            name: "ScriptedLLM",
            dependencies: [
                "BosunProtocol",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The exec helper `bosun-sandbox`. It only loads a filter the worker compiled, so it does not
        // link libseccomp. SwiftPM links executables through swiftc, which adds libswiftCore and
        // libstdc++ (~1.5 ms per spawn to load); as a static executable (main.c stubs the two
        // runtime hooks swiftrt.o references) it starts as fast as a plain `cc` build.
        .executableTarget(
            name: "SandboxExec",
            cSettings: [.unsafeFlags(["-Wall", "-Wextra", "-Werror"])],
            linkerSettings: [.unsafeFlags(["-static-executable"])]
        ),
        // Test program: tries each always-deny syscall and prints one JSON line per attempt.
        .executableTarget(name: "SandboxProbe", cSettings: [.unsafeFlags(["-Wall", "-Wextra", "-Werror"])]),
        // Sandbox profiles: loading, checking and compiling them with libseccomp; host layer checks.
        .target(name: "Sandbox", dependencies: ["CSeccomp"], swiftSettings: swiftSettings),

        // The LLM gateway client: OpenAI chat-completions and Anthropic Messages over LiteLLM.
        .target(
            name: "LLM",
            dependencies: [
                "BosunProtocol",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "CLI",
            dependencies: [
                "BosunProtocol",
                "BosunControl",
                "BosunLogging",
                "ScriptedLLM",
                "Sandbox",
                "MCP",
                "BosunSystem",
                // For its TOMLDocument (the config file); TOMLKit cannot be resolved here.
                "WorkerCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "BosunTestSupport",
            dependencies: [
                "BosunControl",
                "BosunProtocol",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/BosunTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BosunControlTests",
            dependencies: [
                "BosunControl",
                "BosunProtocol",
                "BosunTestSupport",
                "BosunLogging",
                "LLM",
                "ScriptedLLM",
                "Redis",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LLMTests",
            dependencies: [
                "LLM",
                "BosunProtocol",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RuntimesToolTests",
            dependencies: ["Runtimes", "BosunProtocol", "BosunSystem", "LLM"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "BosunProtocolTests", dependencies: ["BosunProtocol"], swiftSettings: swiftSettings),
        .testTarget(name: "PolicyTests", dependencies: ["Policy", "BosunProtocol"], swiftSettings: swiftSettings),
        .testTarget(
            name: "BosunSystemTests",
            dependencies: ["BosunSystem"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MCPTests",
            dependencies: ["MCP", "BosunProtocol", "BosunSystem", "LLM", .product(name: "Logging", package: "swift-log")],
            exclude: ["Servers"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SandboxTests", dependencies: ["Sandbox"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ScriptedLLMTests",
            dependencies: [
                "ScriptedLLM",
                "BosunProtocol",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RuntimeTests",
            dependencies: [
                "Runtimes",
                "MCP",
                "Sandbox",
                "LLM",
                "ScriptedLLM",
                "BosunProtocol",
                "BosunSystem",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Runs the built `bosun` binary against a real control API and a real test-runtime worker.
        .testTarget(
            name: "CLITests",
            dependencies: [
                "BosunControl",
                "BosunProtocol",
                "BosunTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WorkerTests",
            dependencies: [
                "WorkerCore",
                "ScriptedLLM",
                "BosunControl",
                "BosunProtocol",
                "BosunSystem",
                "BosunTestSupport",
                "Redis",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
