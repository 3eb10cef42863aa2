import SentinelClient

#if canImport(Glibc)
    import Glibc
#endif

/// `--rdb FILE` and `--functions-rdb FILE` (`-` for stdout): a snapshot as redis-cli
/// fetches it (`REPLCONF capa eof`, `rdb-only`, `SYNC`), with its lines, from a healthy
/// replica unless `--master`: the master forks nothing.
enum RDBMode {
    static func run(client: SentinelClient, file: String, functionsOnly: Bool, onMaster: Bool) async -> Int32 {
        let say = Session.standardError
        do {
            return try await client.fetchRDB(from: onMaster ? .master : .replica, functionsOnly: functionsOnly) { stream in
                say.write(stepLines(refused: stream.refusedOptions, functionsOnly: functionsOnly))
                return try await save(&stream, to: file)
            }
        } catch let error as SentinelClientError {
            if error.code == .snapshotFailed, error.command?.hasPrefix("REPLCONF") == true {
                say.write(stepLines(refused: [], functionsOnly: true))  // up to the step refused
            }
            say.write(redisCliWording(error).map { $0 + "\n" } ?? "")
            say.write("sentinel-repl: \(error)\(ScanMode.hint(for: error, onMaster: onMaster))\n")
            return 1
        } catch {
            say.write("\(error)\n")
            return 1
        }
    }

    /// redis-cli's lines for the REPLCONF steps, each refusal after its own step.
    private static func stepLines(refused: [RefusedOption], functionsOnly: Bool) -> String {
        let steps = [("capa", "eof"), ("rdb-only", "1")] + (functionsOnly ? [("rdb-filter-only", "functions")] : [])
        return steps.map { option, value in
            "sending REPLCONF \(option) \(value)\n"
                + (refused.first { $0.option == option }.map { "REPLCONF \(option) error: \($0.message)\n" } ?? "")
        }.joined()
    }

    /// redis-cli's own line for a failure it knows.
    private static func redisCliWording(_ error: SentinelClientError) -> String? {
        guard error.code == .snapshotFailed else { return nil }
        switch (error.command, error.reason) {
        case ("SYNC", .errorReply(let message)?): return "SYNC with master failed: -\(message)\r"  // its buffer keeps the CR
        case ("SYNC", _): return "Error reading bulk length while SYNCing"
        case (_?, .errorReply(let message)?):
            return "REPLCONF rdb-filter-only error: \(message)\nFailed requesting functions only RDB from server, aborting"
        default: return "I/O Error reading RDB payload from socket"
        }
    }

    private static func save(_ stream: inout SnapshotStream, to file: String) async throws -> Int32 {
        let say = Session.standardError
        if let size = stream.announcedSize {
            say.write("SYNC sent to master, writing \(size) bytes to '\(file)'\n")
        } else {
            say.write("SYNC sent to master, writing bytes of bulk transfer until EOF marker to '\(file)'\n")
        }
        let toStdout = file == "-"
        let fd = toStdout ? 1 : open(file, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            say.write("Error opening '\(file)': \(String(cString: strerror(errno)))\n")
            return 1
        }
        defer { if !toStdout { close(fd) } }
        while let piece = try await stream.next() {
            if let failure = writeAll(piece, to: fd) {
                say.write("Error writing data to file: \(failure)\n")
                return 1
            }
        }
        say.write(stream.announcedSize == nil ? "Transfer finished with success after \(stream.received) bytes\n" : "Transfer finished with success.\n")
        if !toStdout && fsync(fd) == -1 {
            say.write("Fail to fsync '\(file)': \(String(cString: strerror(errno)))\n")
            return 1
        }
        return 0
    }

    /// nil when every byte was written, else why not.
    private static func writeAll(_ bytes: [UInt8], to fd: Int32) -> String? {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return written < 0 ? String(cString: strerror(errno)) : "short write" }
            offset += written
        }
        return nil
    }
}
