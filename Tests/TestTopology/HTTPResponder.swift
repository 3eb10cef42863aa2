import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A listener on a free port of 127.0.0.1 that answers whatever it is sent the way a
/// web server answers bytes that are not HTTP: `HTTP/1.1 400 Bad Request`, after
/// reading the request, then it closes. In this process, on its own thread; `stop`
/// closes the listening socket and ends the thread.
public final class HTTPResponder: @unchecked Sendable {
    public let port: Int
    private let listener: Int32
    private let finished = DispatchSemaphore(value: 0)

    public init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 8) == 0 else {
            close(listener)
            throw TopologyError.startFailed("HTTP responder: bind or listen failed, errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        self.listener = listener
        Thread.detachNewThread { [self] in serve() }
    }

    private func serve() {
        defer { finished.signal() }
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }  // the listener was shut down
            var buffer = [UInt8](repeating: 0, count: 4096)
            _ = read(client, &buffer, buffer.count)
            let reply = Array("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
            _ = write(client, reply, reply.count)
            close(client)
        }
    }

    public func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        finished.wait()
        close(listener)
    }
}
