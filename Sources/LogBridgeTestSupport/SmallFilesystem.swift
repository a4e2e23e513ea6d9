import Foundation

/// A size-limited tmpfs mounted for a test, so "disk full" is the kernel's real ENOSPC rather than
/// a configured byte limit. Mounting needs root (CI and these machines run tests as root); tests
/// that use it are enabled only where ``available`` is true.
public struct SmallFilesystem: Sendable {
    public let mountPoint: String

    /// Whether this process may mount a tmpfs (probed once with a 1 MiB mount).
    public static let available: Bool = {
        guard getuid() == 0 else { return false }
        let probe = TemporaryDirectory(prefix: "logbridge-mount-probe")
        defer { probe.remove() }
        guard (try? mount(at: probe.path, size: "1m")) != nil else { return false }
        unmount(probe.path)
        return true
    }()

    /// Mounts a tmpfs of `size` (e.g. `"16m"`) at `mountPoint`, creating the directory.
    public init(at mountPoint: String, size: String) throws {
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        try Self.mount(at: mountPoint, size: size)
        self.mountPoint = mountPoint
    }

    /// Unmounts; the files on it are gone.
    public func remove() { Self.unmount(mountPoint) }

    private static func mount(at path: String, size: String) throws {
        let status = run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", path])
        guard status == 0 else {
            throw NSError(domain: "SmallFilesystem", code: Int(status), userInfo: [NSLocalizedDescriptionKey: "mount tmpfs at \(path) failed"])
        }
    }

    private static func unmount(_ path: String) { _ = run("/bin/umount", ["-l", path]) }

    private static func run(_ executable: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
