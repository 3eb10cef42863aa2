// swift-tools-version:6.2
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "sentinel-repl",
    products: [
        .executable(name: "sentinel-repl", targets: ["sentinel-repl"]),
        .library(name: "SentinelClient", targets: ["SentinelClient"]),
        .library(name: "RESP", targets: ["RESP"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // Already resolved for swift-nio; the batch queue is a Deque.
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // `swift package generate-documentation --target SentinelClient` builds the DocC catalog.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibedit",
            pkgConfig: "libedit",
            providers: [.apt(["libedit-dev"])]
        ),
        .target(
            name: "RESP",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict
        ),
        .target(
            name: "SentinelClient",
            dependencies: [
                "RESP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "REPL",
            dependencies: [
                "CLibedit", "RESP", "SentinelClient",
                .product(name: "NIOCore", package: "swift-nio"),
                // pthread locks, which ThreadSanitizer understands (Synchronization.Mutex's futex it does not).
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "sentinel-repl",
            dependencies: [
                "REPL",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict,
            // Start-up (bench/run.sh, issue 23), on Linux. A --static-swift-stdlib link exports
            // every public symbol of every module (static-stdlib-args.lnk passes -export-dynamic):
            // 20,000 names the loader hashes and the runtime's start-up dladdr scans; nothing
            // looks them up by name. The toolchain's lld lays the binary out for a faster
            // start than the system's gold.
            linkerSettings: [
                .unsafeFlags(["-use-ld=lld", "-Xlinker", "--no-export-dynamic"], .when(platforms: [.linux]))
            ]
        ),
        .target(name: "CPseudoTerminal", path: "Tests/CPseudoTerminal"),
        .target(
            name: "TestTopology",
            dependencies: ["CPseudoTerminal"],
            path: "Tests/TestTopology",
            swiftSettings: strict
        ),
        .testTarget(
            name: "RESPTests",
            dependencies: ["RESP", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict
        ),
        // Unit tests: plain values and state machines, no socket, no sleep, no server.
        .testTarget(
            name: "SentinelClientTests",
            dependencies: [
                "SentinelClient", "RESP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "REPLTests",
            dependencies: [
                "REPL", "RESP", "SentinelClient",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // End to end: real redis-server and redis-sentinel processes on loopback.
        .testTarget(
            name: "SentinelClientEndToEndTests",
            dependencies: [
                "SentinelClient", "RESP", "TestTopology",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "REPLEndToEndTests",
            dependencies: [
                "REPL", "RESP", "SentinelClient", "TestTopology",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
    ]
)

// libFuzzer targets, only when scripts/fuzz.sh asks for them (a build with
// --sanitize=fuzzer --sanitize=address; libFuzzer brings main).
if Context.environment["SENTINEL_REPL_FUZZ"] != nil {
    let fuzzTargets: [(String, [Target.Dependency])] = [
        ("FuzzRESPDecoder", ["RESP", .product(name: "NIOCore", package: "swift-nio")]),
        ("FuzzCommandLine", ["REPL"]),
        ("FuzzSentinelURL", ["SentinelClient"]),
        ("FuzzRenderer", ["REPL", "RESP", .product(name: "NIOCore", package: "swift-nio")]),
    ]
    for (name, dependencies) in fuzzTargets {
        package.targets.append(
            .executableTarget(name: name, dependencies: dependencies, path: "Tests/Fuzz/\(name)", swiftSettings: strict))
        package.products.append(.executable(name: name, targets: [name]))
    }
}
