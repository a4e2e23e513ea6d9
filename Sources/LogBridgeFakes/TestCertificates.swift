import Foundation
import LogBridgeTestSupport

/// Certificates for TLS tests, generated with the `openssl` command line tool (Debian's `openssl`
/// package) once per test process into a temporary directory: a private CA, server certificates
/// (good, expired, for the wrong host, from a CA nobody trusts) and a client certificate.
///
/// Keys are P-256 (EC): generating them takes milliseconds, where RSA keys would take a good part
/// of a second each. Every server certificate shares one key; what differs is who signed it, for
/// which names and until when.
public struct TestCertificates: Sendable {
    /// The private CA's certificate (PEM): what a sink's `tls.ca_file` trusts, and what a fake
    /// that requires client certificates trusts them by.
    public let caFile: String
    /// The second CA, which issued `untrustedServerCertificateFile`.
    public let otherCAFile: String
    /// The server key every server certificate below belongs to.
    public let serverKeyFile: String
    /// Signed by the CA for `localhost` and `127.0.0.1`, valid now.
    public let serverCertificateFile: String
    /// Signed by the CA for `localhost` and `127.0.0.1`, but its validity ended a day ago.
    public let expiredServerCertificateFile: String
    /// Signed by the CA, valid now, but only for `wrong-host.example`.
    public let wrongHostServerCertificateFile: String
    /// For `localhost` and `127.0.0.1`, valid now, but signed by a second CA nobody trusts.
    public let untrustedServerCertificateFile: String
    /// A client certificate the CA signed (extended key usage `clientAuth`), and its key.
    public let clientCertificateFile: String
    public let clientKeyFile: String

    /// The certificates for this process, generated on first use.
    /// - Throws: ``TestCertificateError`` when `openssl` is missing or fails.
    public static func shared() throws(TestCertificateError) -> TestCertificates {
        try generated.get()
    }

    // A `static let` is initialised once, thread-safely, on first use: every suite running in
    // parallel shares the one set.
    private static let generated: Result<TestCertificates, TestCertificateError> = {
        do throws(TestCertificateError) {
            return .success(try generate(in: TemporaryDirectory(prefix: "logbridge-certs").path))
        } catch {
            return .failure(error)
        }
    }()

    private static func generate(in directory: String) throws(TestCertificateError) -> TestCertificates {
        func file(_ name: String) -> String { "\(directory)/\(name)" }
        let names = file("names.ext")
        let client = file("client.ext")
        let wrong = file("wrong.ext")
        do {
            try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(toFile: names, atomically: true, encoding: .utf8)
            try "subjectAltName=DNS:wrong-host.example\n".write(toFile: wrong, atomically: true, encoding: .utf8)
            try "extendedKeyUsage=clientAuth\n".write(toFile: client, atomically: true, encoding: .utf8)
        } catch {
            throw TestCertificateError(message: "cannot write openssl extension files in \(directory): \(error)")
        }
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        // The two CAs, self-signed.
        for ca in ["ca", "other-ca"] {
            try openssl(["req", "-x509"] + ec + ["-keyout", file("\(ca).key"), "-out", file("\(ca).pem"), "-days", "30", "-subj", "/CN=logbridge test \(ca)"])
        }
        // Certificate requests for the server key and the client key.
        try openssl(["req", "-new"] + ec + ["-keyout", file("server.key"), "-out", file("server.csr"), "-subj", "/CN=logbridge test server"])
        try openssl(["req", "-new"] + ec + ["-keyout", file("client.key"), "-out", file("client.csr"), "-subj", "/CN=logbridge test client"])
        func sign(_ csr: String, by ca: String, days: String, extensions: String, into name: String) throws(TestCertificateError) {
            try openssl([
                "x509", "-req", "-in", file(csr), "-CA", file("\(ca).pem"), "-CAkey", file("\(ca).key"), "-set_serial",
                "\(UInt32.random(in: 1...UInt32.max))", "-days", days, "-extfile", extensions, "-out", file(name),
            ])
        }
        try sign("server.csr", by: "ca", days: "30", extensions: names, into: "server.pem")
        // OpenSSL 3.0's `x509` cannot backdate a certificate; `-days -1` puts its end a day before
        // its start (now), which every verifier reports as expired.
        try sign("server.csr", by: "ca", days: "-1", extensions: names, into: "expired.pem")
        try sign("server.csr", by: "ca", days: "30", extensions: wrong, into: "wrong-host.pem")
        try sign("server.csr", by: "other-ca", days: "30", extensions: names, into: "untrusted.pem")
        try sign("client.csr", by: "ca", days: "30", extensions: client, into: "client.pem")
        return TestCertificates(
            caFile: file("ca.pem"), otherCAFile: file("other-ca.pem"), serverKeyFile: file("server.key"), serverCertificateFile: file("server.pem"),
            expiredServerCertificateFile: file("expired.pem"), wrongHostServerCertificateFile: file("wrong-host.pem"),
            untrustedServerCertificateFile: file("untrusted.pem"), clientCertificateFile: file("client.pem"),
            clientKeyFile: file("client.key"))
    }

    private static func openssl(_ arguments: [String]) throws(TestCertificateError) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw TestCertificateError(message: "cannot run /usr/bin/openssl (install Debian's openssl package): \(error)")
        }
        let output = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestCertificateError(
                message: "openssl \(arguments.first ?? "") failed (\(process.terminationStatus)): \(String(decoding: output, as: UTF8.self))")
        }
    }
}

/// Generating the test certificates failed.
public struct TestCertificateError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
